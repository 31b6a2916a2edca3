/**
 * Correctly rounded float64 `log`, `exp`, `pow`, `sin`, `cos`, `tan`, `expm1`, `log1p` and
 * `atan` in plain JavaScript: what the C library of the reference machines (glibc, x86-64) returns in
 * practically every case, and the same bits on every JavaScript engine.
 *
 * Why this exists: V8's `Math.log/exp/pow/sin/cos` (fdlibm ports) are off by one unit in the
 * last place for a few percent of inputs, and the originals feed their C library's results
 * into values that are recorded bit for bit:
 * - torch's float64 `randn` puts `log(1 − u)`, `cos(2πu)` and `sin(2πu)` into the Box-Muller
 *   transform. Measured on a million Box-Muller inputs against glibc 2.36 (x86-64): this
 *   module differs from glibc in 0.08% of `log` calls and 0.14% of `sin`/`cos` calls (the
 *   inputs where glibc itself is one ulp off), V8's builtins in 7.3% (`log`) and 3.4%
 *   (`sin`/`cos`).
 * - NVlabs' EDM builds its schedules with Python/numpy scalar math (`np.e ** x`,
 *   `x ** (1/rho)`, `log`); `Math.pow(Math.E, 10.05)` is 23155.786845395414 where the
 *   correctly rounded value (the one NVlabs computes for the VP default sigma_max) is
 *   23155.78684539541.
 *
 * Two methods, both rounding once at the end:
 *
 * Double-double (`log`, `sin`, `cos`, `sincos`; about 80-120 ns a call): the result is an
 * unevaluated sum of two doubles (about 106 significant bits) with a relative error far below
 * 2^-80, rounded once to the nearest double. Building blocks: the error-free transformations
 * TwoSum (the rounding error of an addition) and Dekker's TwoProduct (the rounding error of a
 * multiplication, via Veltkamp splitting, no FMA).
 * - `log(x)`: x = 2^k·m with m in [√½, √2), c = j/128 the table point nearest m. Then
 *   log x = k·ln2 + log c + 2·atanh(s) with s = (m − c)/(m + c), |s| < 2^-8.5, and the
 *   atanh series evaluated in double-double. ln 2 is split into three parts so that
 *   k·ln2 is exact enough, and log c comes from a table of double-double values. For m
 *   close to 1, c = 1 and log c = 0, so results near log(1) = 0 keep full relative accuracy.
 * - `sin(x)`, `cos(x)`: Cody-Waite reduction r = x − n·π/2 with π/2 in four parts (152
 *   bits), r in double-double; then r = a + b with a = j/64 from a table of double-double
 *   sin a, cos a, |b| ≤ 1/128, sin b and cos b − 1 from their Taylor series, and the angle
 *   addition formulas. That reduction is exact enough for |x| < 2^20·π/2; from there up to
 *   2^30 the fixed-point method below is used, beyond 2^30 `Math.sin/cos`.
 * All tables and split constants were produced with 300-bit arithmetic (mpmath): each
 * double-double entry is `hi = round(v)`, `lo = round(v - hi)`.
 *
 * BigInt fixed point (`exp`, `expm1`, `log1p`, `atan`, `tan`, `pow`, and sin/cos of large
 * arguments; tens of microseconds a call): the value is computed with 288 fractional bits
 * (series for atanh, atan, exp, sin, cos; ln 2 and π from atanh/Machin series) and converted
 * to the nearest double. Meant for per-call setup (schedules, a few hundred scalars), never
 * for per-element work.
 *
 * Confirmed: `log`, `sin`, `cos` against glibc 2.36 and 250-bit mpmath references
 * (test/libm.test.ts); the two methods agree bit for bit on 2 million random `log`, `sin` and
 * `cos` inputs; `pow(Math.E, x)` reproduces NVlabs' recorded VP sigma_max and schedules
 * (edm-reference fixtures).
 */

import { decomposeDouble } from "./float-bits.js";

// ---- bit access ------------------------------------------------------------------------

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the 32-bit word that holds sign, exponent and top mantissa bits. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

// ---- error-free transformations ------------------------------------------------------

/** 2^27 + 1, the Veltkamp splitting constant for doubles. */
const SPLITTER = 134217729;

/** The exact rounding error `a·b − p` of the double product `p = fl(a·b)` (Dekker). */
function prodErr(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * `prodErr(a, b, p)` for an `a` already split into `ah + al` (Veltkamp, as prodErr splits
 * it): the same operations, so the same result. Used with the pre-split sin/cos table, which
 * keeps sincosArray's call sites small enough for V8 to inline them all.
 */
function prodErrSplit(ah: number, al: number, b: number, p: number): number {
  const t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** The exact rounding error `a + b − s` of the double sum `s = fl(a + b)` (Knuth's TwoSum). */
function sumErr(a: number, b: number, s: number): number {
  const bb = s - a;
  return a - (s - bb) + (b - bb);
}

// ---- constants -------------------------------------------------------------------------

/** ln 2 = LN2_1 + LN2_2 + LN2_3; the first two parts have 40 significant bits, so k·part is exact. */
const LN2_1 = 0.6931471805592082;
const LN2_2 = 7.371002565161996e-13;
const LN2_3 = 5.8029889835956905e-25;

/** π/2 = PIO2_1 + PIO2_2 + PIO2_3 + PIO2_4; the first three have 33 significant bits. */
const PIO2_1 = 1.5707963267341256;
const PIO2_2 = 6.077100506303966e-11;
const PIO2_3 = 2.0222662487111665e-21;
const PIO2_4 = 8.4784276603689e-32;
const INV_PIO2 = 0.6366197723675814;
const PIO4 = 0.7853981633974483;
/** Reduction is done here only for |n| ≤ 2^20, where n·PIO2_{1,2,3} are exact. */
const MAX_N = 1048576;

/** 1/3, 1/6, 1/24 as double-doubles. */
const THIRD_H = 0.3333333333333333;
const THIRD_L = 1.850371707708594e-17;
const SIXTH_H = 0.16666666666666666;
const SIXTH_L = 9.25185853854297e-18;
const T24_H = 0.041666666666666664;
const T24_L = 2.3129646346357427e-18;

/**
 * `log(j/128)` for j = 91..181 as (hi, lo) pairs: entry j sits at index 2·(j − 91).
 * (j = 128 gives exactly 0.)
 */
// prettier-ignore
const LOG_TABLE = new Float64Array([
  -0.34117075740276714,
  1.9366790062602867e-17, // j = 91
  -0.33024168687057687,
  1.0828321637483858e-17, // j = 92
  -0.3194307707663612,
  -1.354256857264811e-18, // j = 93
  -0.3087354816496133,
  1.6199186085148102e-17, // j = 94
  -0.29815337231907635,
  1.720695867445866e-17, // j = 95
  -0.2876820724517809,
  -2.607160616442564e-17, // j = 96
  -0.27731928541623435,
  7.44528405583513e-18, // j = 97
  -0.26706278524904525,
  7.32891532732017e-18, // j = 98
  -0.2569104137850272,
  -2.502843296152504e-17, // j = 99
  -0.24686007793152578,
  -1.361743371748368e-17, // j = 100
  -0.2369097470783577,
  -1.9682402978398164e-18, // j = 101
  -0.22705745063534608,
  -9.551415762738488e-18, // j = 102
  -0.2173012756899814,
  -1.6168452453763015e-18, // j = 103
  -0.2076393647782445,
  -1.2053243216686129e-17, // j = 104
  -0.1980699137620938,
  -3.742843482461439e-18, // j = 105
  -0.18859116980755003,
  7.432164219196925e-18, // j = 106
  -0.179201429457711,
  1.0785017454858423e-17, // j = 107
  -0.16989903679539747,
  4.868008764439071e-19, // j = 108
  -0.16068238169047347,
  3.650183553047837e-18, // j = 109
  -0.15154989812720093,
  -5.1669593684615594e-18, // j = 110
  -0.14250006260728304,
  9.926388234225749e-18, // j = 111
  -0.13353139262452263,
  3.664457663660085e-18, // j = 112
  -0.1246424452072766,
  5.808912678940971e-18, // j = 113
  -0.1158318155251217,
  -4.338484369808096e-18, // j = 114
  -0.1070981355563671,
  1.73705104015906e-18, // j = 115
  -0.09844007281325252,
  4.439009633675136e-18, // j = 116
  -0.08985632912186105,
  6.273760163689594e-19, // j = 117
  -0.0813456394539524,
  -5.07707635593117e-18, // j = 118
  -0.07290677080808779,
  6.306860257532778e-18, // j = 119
  -0.06453852113757118,
  6.470486661692933e-18, // j = 120
  -0.05623971832287608,
  3.2835149805605613e-18, // j = 121
  -0.048009219186360606,
  -1.4390903347292205e-18, // j = 122
  -0.039845908547199674,
  3.129547680315208e-18, // j = 123
  -0.0317486983145803,
  -3.0382263084680858e-18, // j = 124
  -0.023716526617316044,
  1.5774243488668215e-18, // j = 125
  -0.015748356968139168,
  -1.0021578630528974e-18, // j = 126
  -0.007843177461025893,
  -2.764708154124904e-19, // j = 127
  0.0,
  0.0, // j = 128
  0.007782140442054949,
  -1.2819179123343845e-20, // j = 129
  0.015504186535965254,
  -3.278321022892429e-19, // j = 130
  0.02316705928153438,
  -1.1769544932063305e-18, // j = 131
  0.030771658666753687,
  1.0431732029005968e-18, // j = 132
  0.0383188643021366,
  -2.357996157351286e-18, // j = 133
  0.0458095360312942,
  1.902959866474257e-18, // j = 134
  0.053244514518812285,
  -1.665575816973663e-18, // j = 135
  0.06062462181643484,
  2.6424025938726934e-18, // j = 136
  0.06795066190850775,
  -1.2802141240611733e-18, // j = 137
  0.07522342123758753,
  -5.930604196293241e-18, // j = 138
  0.08244366921107459,
  5.700437773813987e-18, // j = 139
  0.08961215868968714,
  -5.4268129336647135e-18, // j = 140
  0.09672962645855111,
  -5.597397486289965e-19, // j = 141
  0.10379679368164356,
  5.47772415726659e-18, // j = 142
  0.11081436634029011,
  1.183748342825649e-18, // j = 143
  0.11778303565638346,
  -1.1971685747593677e-18, // j = 144
  0.12470347850095724,
  -4.6522609636496624e-18, // j = 145
  0.13157635778871926,
  1.1123000879729588e-17, // j = 146
  0.13840232285911913,
  4.447777301357527e-18, // j = 147
  0.1451820098444979,
  8.242418783022475e-18, // j = 148
  0.15191604202584197,
  6.4838631244022194e-18, // j = 149
  0.15860503017663857,
  1.1257003872182592e-17, // j = 150
  0.16524957289530717,
  -1.0094935622322628e-17, // j = 151
  0.17185025692665923,
  -6.0224538210113705e-18, // j = 152
  0.1784076574728183,
  -1.2432553788701131e-17, // j = 153
  0.184922338494012,
  3.0236614153574064e-18, // j = 154
  0.19139485299962947,
  -1.2129496905792884e-17, // j = 155
  0.19782574332991987,
  1.2821194372980142e-17, // j = 156
  0.2042155414286909,
  2.7338281018722773e-18, // j = 157
  0.21056476910734964,
  -4.249405314729895e-18, // j = 158
  0.21687393830061436,
  4.551026193234283e-18, // j = 159
  0.22314355131420976,
  -9.091270597324799e-18, // j = 160
  0.22937410106484582,
  9.927671823978025e-18, // j = 161
  0.2355660713127669,
  -2.3943371495187355e-18, // j = 162
  0.24171993688714516,
  8.900990022166643e-18, // j = 163
  0.24783616390458127,
  -1.2432209578702523e-17, // j = 164
  0.25391520998096345,
  -8.048097394424201e-18, // j = 165
  0.25995752443692605,
  2.069806938978935e-17, // j = 166
  0.26596354849713794,
  5.3393802761314314e-18, // j = 167
  0.27193371548364176,
  7.83319637697442e-19, // j = 168
  0.2778684510034563,
  -9.16018294909263e-19, // j = 169
  0.2837681731306446,
  -2.032665581126656e-17, // j = 170
  0.28963329258304266,
  2.0535953219858174e-17, // j = 171
  0.2954642128938359,
  -2.16461086040599e-17, // j = 172
  0.3012613305781618,
  -9.048511144048564e-18, // j = 173
  0.3070250352949119,
  -1.2319916200101964e-17, // j = 174
  0.3127557100038969,
  -1.451808353098951e-17, // j = 175
  0.3184537311185346,
  2.7114779367326236e-17, // j = 176
  0.324119468654212,
  -7.958214381893813e-18, // j = 177
  0.329753286372468,
  2.122020616196946e-18, // j = 178
  0.3353555419211378,
  1.834564437059473e-17, // j = 179
  0.3409265869705932,
  1.7467136443544747e-17, // j = 180
  0.34646676734620857,
  1.028583585496265e-17, // j = 181
]);

/** `sin(j/64), cos(j/64)` for j = 0..51 as (sin hi, sin lo, cos hi, cos lo), entry j at 4·j. */
// prettier-ignore
const SINCOS_TABLE = new Float64Array([
  0.0,
  0.0,
  1.0,
  0.0, // j = 0
  0.015624364224883372,
  -1.2650937552759816e-19,
  0.9998779321710066,
  3.216122229972341e-17, // j = 1
  0.03124491398532608,
  -1.562781562225433e-18,
  0.9995117584851364,
  -3.418806487972947e-17, // j = 2
  0.04685783574813424,
  -2.3419368365610254e-18,
  0.9989015683384429,
  -2.1425557800399754e-17, // j = 3
  0.0624593178423802,
  -2.040259504585711e-18,
  0.9980475107000991,
  3.3232291674141346e-17, // j = 4
  0.07804555138996731,
  -5.449443782005793e-18,
  0.9969497940760287,
  -1.2467075728553626e-17, // j = 5
  0.09361273123551289,
  1.4628632005878733e-18,
  0.9956086864580017,
  3.312922430932991e-17, // j = 6
  0.10915705687532236,
  6.6284699502736666e-18,
  0.9940245152582091,
  1.3287985046260087e-17, // j = 7
  0.12467473338522769,
  -2.925947496057858e-18,
  0.992197667229329,
  4.754870575189364e-17, // j = 8
  0.1401619723470637,
  -9.946847113883478e-18,
  0.9901285883701071,
  -4.589906353553811e-18, // j = 9
  0.15561499277355603,
  8.886053372342288e-18,
  0.9878177838164719,
  4.91917302237681e-17, // j = 10
  0.17103002203139503,
  -9.954774726452923e-18,
  0.9852658177182139,
  -4.925721262944555e-17, // j = 11
  0.18640329676226988,
  2.3493796901281573e-18,
  0.9824733131012553,
  -3.919920375420088e-17, // j = 12
  0.2017310638016388,
  5.587232815460113e-18,
  0.9794409517155483,
  1.3108769521526758e-17, // j = 13
  0.21700958109501015,
  1.1170071073364376e-17,
  0.9761694738686353,
  -7.850690609285027e-18, // j = 14
  0.23223511861151147,
  -8.318080852687206e-18,
  0.9726596782449127,
  2.3920264546490165e-17, // j = 15
  0.24740395925452294,
  -7.53102495590706e-18,
  0.9689124217106447,
  5.071436662403936e-17, // j = 16
  0.2625123997691533,
  -2.2534597527902125e-17,
  0.964928619104771,
  -3.0345542681018625e-18, // j = 17
  0.2775567516463363,
  1.7674070262791822e-17,
  0.9607092430155619,
  -2.807827063516729e-17, // j = 18
  0.29253334202332754,
  7.516944930327352e-18,
  0.9562553235431753,
  -3.148450868841629e-17, // j = 19
  0.30743851458038085,
  1.1004366442765296e-19,
  0.9515679480481722,
  -3.8614834675674123e-17, // j = 20
  0.3222686304333866,
  2.093773358126606e-17,
  0.9466482608860534,
  -3.911683334934152e-17, // j = 21
  0.33702006902225307,
  1.0312279860787216e-17,
  0.9414974631278811,
  -4.8523830236797095e-18, // j = 22
  0.3516892289948141,
  -2.5616208736069942e-17,
  0.9361168122670553,
  -5.2350302039683216e-17, // j = 23
  0.36627252908604757,
  -9.938814562106524e-18,
  0.9305076219123143,
  4.488760003328074e-18, // j = 24
  0.38076640899239017,
  2.1372528646211374e-17,
  0.924671261467036,
  5.5444125388034563e-17, // j = 25
  0.39516733024093426,
  -1.9613487871414228e-17,
  0.9186091557949183,
  -4.0564150104514996e-17, // j = 26
  0.40947177705329507,
  -5.679403000091266e-18,
  0.9123227848721178,
  2.6349040211413332e-17, // j = 27
  0.42367625720393803,
  -2.331800700068871e-17,
  0.9058136834259364,
  4.2864666490805214e-17, // j = 28
  0.4377773028727551,
  7.64345629962023e-18,
  0.8990834405601384,
  9.076951775075616e-18, // j = 29
  0.4517714714916838,
  -8.234073942098903e-18,
  0.8921336993669944,
  2.3160655211380166e-17, // j = 30
  0.46565534658516017,
  1.459870391051426e-17,
  0.8849661565261433,
  -7.690557775987357e-18, // j = 31
  0.479425538604203,
  -5.103969860556013e-18,
  0.8775825618903728,
  -4.2623149864279997e-17, // j = 32
  0.49307868575392305,
  5.605083973871755e-18,
  0.8699847180584174,
  1.657385110740923e-17, // j = 33
  0.5066114548142574,
  -3.269413423618168e-17,
  0.8621744799348805,
  4.4132427578105805e-18, // j = 34
  0.520020541953727,
  -3.983266745698455e-17,
  0.8541537542773854,
  5.420565102675286e-18, // j = 35
  0.5333026735360201,
  5.129318115032044e-17,
  0.8459244992310679,
  1.549506647350329e-17, // j = 36
  0.5464546069192036,
  8.399754840929507e-18,
  0.8374887238505236,
  4.3337026043948396e-17, // j = 37
  0.5594731312473669,
  1.575565514488728e-17,
  0.8288484876093257,
  1.1163935406617444e-17, // j = 38
  0.5723550682345072,
  2.6575872357215316e-17,
  0.820005899897234,
  -3.912431748209128e-17, // j = 39
  0.5850972729404622,
  -5.4883972461161805e-17,
  0.8109631195052179,
  -3.091333486122179e-17, // j = 40
  0.5976966345387015,
  5.450323593054385e-17,
  0.8017223540984184,
  4.0134533311087014e-17, // j = 41
  0.6101500770757914,
  -1.479826990758988e-17,
  0.7922858596771786,
  -2.9049779312834576e-17, // j = 42
  0.6224545602223437,
  -6.049035765709707e-18,
  0.7826559400262728,
  -1.474071641211487e-17, // j = 43
  0.6346070800152693,
  -3.4568582392624965e-17,
  0.7728349461524715,
  4.231014921891023e-17, // j = 44
  0.6466046695911524,
  4.567647714393289e-19,
  0.7628252757105762,
  1.6672995021546628e-17, // j = 45
  0.6584443999105676,
  -3.7736386700306717e-17,
  0.7526293724180665,
  -1.2970993013150526e-17, // j = 46
  0.6701233804731629,
  6.183536725574959e-18,
  0.7422497254585013,
  -1.2339303604869521e-17, // j = 47
  0.6816387600233341,
  4.410467313197903e-17,
  0.7316888688738209,
  -1.0475824306512768e-17, // j = 48
  0.692987727246318,
  -5.3543290798909455e-17,
  0.7209493809456964,
  3.494986701478816e-17, // j = 49
  0.7041675114545337,
  -3.94095700584825e-17,
  0.7100338835660797,
  1.505272211891291e-17, // j = 50
  0.7151753832640076,
  -1.466099578328228e-17,
  0.6989450415971057,
  -5.5261332036460915e-18, // j = 51
]);

/** Veltkamp splits of the table's sin a and cos a (hi parts): (sin hi, sin lo, cos hi, cos lo). */
const SINCOS_SPLIT = new Float64Array(SINCOS_TABLE.length);
for (let o = 0; o < SINCOS_TABLE.length; o += 4) {
  for (const d of [0, 2]) {
    const a = SINCOS_TABLE[o + d];
    const t = SPLITTER * a;
    const ah = t - (t - a);
    SINCOS_SPLIT[o + d] = ah;
    SINCOS_SPLIT[o + d + 1] = a - ah;
  }
}

// ---- log -----------------------------------------------------------------------------

/** One-element buffers of the scalar wrappers. */
const ARG = new Float64Array(1);
const SIN1 = new Float64Array(1);
const COS1 = new Float64Array(1);
/** Result slots of the per-element sin/cos: [sin, cos]. */
const SC = new Float64Array(2);

/**
 * Natural logarithm, correctly rounded (to nearest) for all positive finite doubles, up to
 * a misrounding probability of about 2^-35 per call from the final rounding of a value
 * accurate to roughly 2^-88 (none found in 300,000 checks against 250-bit references;
 * same for `sin`/`cos`). Special values follow IEEE:
 * log(±0) = −∞, log(x < 0) = NaN, log(+∞) = +∞, log(NaN) = NaN, log(1) = +0.
 */
export function log(x: number): number {
  ARG[0] = x;
  logArray(ARG, ARG, 1);
  return ARG[0];
}

/**
 * `out[i] = log(xs[i])` for i < count (`out` may be `xs`). The array form is what hot loops
 * call: numbers stay unboxed in typed arrays, so a loop over it allocates nothing.
 */
export function logArray(xs: Float64Array, out: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const x = xs[i];
    if (!(x > 0) || x === Infinity || x === 1) {
      out[i] = x === 1 ? 0 : x === 0 ? -Infinity : x === Infinity ? x : NaN;
      continue;
    }
    // x = 2^k · m, m in [√½, √2)
    F64[0] = x;
    let hw = U32[HI];
    let k = 0;
    if (hw < 0x00100000) {
      // subnormal: scale by 2^54 first
      F64[0] = x * 18014398509481984;
      hw = U32[HI];
      k = -54;
    }
    k += (hw >>> 20) - 1023;
    hw = (hw & 0x000fffff) | 0x3ff00000; // m in [1, 2)
    if (hw >= 0x3ff6a09e) {
      hw -= 0x00100000; // m in [√½, 1)
      k++;
    }
    U32[HI] = hw;
    const m = F64[0];

    // c = j/128 nearest m; s = (m - c)/(m + c) as a double-double (sh, sl)
    const j = Math.round(m * 128);
    const c = j * 0.0078125;
    const f = m - c; // exact: both are multiples of 2^-53 and |f| ≤ 2^-8
    const dh = m + c;
    const dl = sumErr(m, c, dh);
    const sh = f / dh;
    const p = sh * dh;
    const sl = (f - p - prodErr(sh, dh, p) - sh * dl) / dh; // f - p is exact (Sterbenz)

    // 2·atanh(s) = 2s·(1 + T), T = z/3 + z²/5 + z³/7 + …, z = s² ≤ 2^-17
    const zh = sh * sh;
    const zl = prodErr(sh, sh, zh) + 2 * sh * sl;
    const P = 0.2 + zh * (1 / 7 + zh * (1 / 9 + zh * (1 / 11 + zh * (1 / 13))));
    const q = zh * P + zl * 0.2; // z·(1/5 + …), ≈ 2^-19
    const ah = THIRD_H + q;
    const al = THIRD_H - ah + q + THIRD_L; // a = 1/3 + z·P
    const th = zh * ah;
    const tl = prodErr(zh, ah, th) + zh * al + zl * ah; // T = z·a
    const uh = sh * th;
    const ul = prodErr(sh, th, uh) + sh * tl + sl * th; // s·T
    let rh = sh + uh;
    let rl = sh - rh + uh + (sl + ul);
    rh *= 2;
    rl *= 2;

    // k·ln2 + log(c) + R, summed in double-double and rounded once
    const idx = 2 * (j - 91);
    const lch = LOG_TABLE[idx];
    const k1 = k * LN2_1;
    const s1 = k1 + lch;
    const e1 = sumErr(k1, lch, s1);
    const s2 = s1 + rh;
    const e2 = sumErr(s1, rh, s2);
    out[i] = s2 + (e1 + e2 + k * LN2_2 + LOG_TABLE[idx + 1] + rl + k * LN2_3);
  }
}

// ---- sin / cos -----------------------------------------------------------------------

/**
 * sin(x) and cos(x) of the same argument, correctly rounded for |x| < 2^30 (see the module
 * comment; `Math.sin/cos` beyond), written to `out[0]` (sine) and `out[1]` (cosine). Shares
 * the argument reduction, which is what the Box-Muller transform needs.
 */
export function sincos(x: number, out: Float64Array): void {
  ARG[0] = x;
  sincosArray(ARG, SIN1, COS1, 1);
  out[0] = SIN1[0];
  out[1] = COS1[0];
}

/**
 * `sinOut[i] = sin(xs[i])`, `cosOut[i] = cos(xs[i])` for i < count: the array form of
 * {@link sincos} for hot loops (allocates nothing; an output may be `xs`).
 */
export function sincosArray(
  xs: Float64Array,
  sinOut: Float64Array,
  cosOut: Float64Array,
  count: number,
): void {
  for (let i = 0; i < count; i++) {
    const x = xs[i];
    if (x === 0) {
      sinOut[i] = x; // keeps the sign of zero
      cosOut[i] = 1;
      continue;
    }
    if (x - x !== 0) {
      sinOut[i] = NaN; // ±∞, NaN
      cosOut[i] = NaN;
      continue;
    }
    // r = x − n·π/2 as a double-double (rh, rl), |r| ≲ π/4
    let n = 0;
    let rh = x;
    let rl = 0;
    if (Math.abs(x) > PIO4) {
      n = Math.round(x * INV_PIO2);
      if (Math.abs(n) > MAX_N) {
        sincosLarge(x, SC);
        sinOut[i] = SC[0];
        cosOut[i] = SC[1];
        continue;
      }
      rh = x - n * PIO2_1; // exact by Sterbenz's lemma, since |n| ≥ 1
      let t = n * PIO2_2;
      let s = rh - t;
      let e = sumErr(rh, -t, s);
      rh = s;
      t = n * PIO2_3;
      s = rh - t;
      e += sumErr(rh, -t, s);
      rh = s;
      rl = e - n * PIO2_4;
      s = rh + rl;
      rl = sumErr(rh, rl, s);
      rh = s;
    }
    let neg = false;
    if (rh < 0) {
      rh = -rh;
      rl = -rl;
      neg = true;
    }

    // r = a + b, a = j/64, |b| ≤ 1/128, b as a double-double (bh, bl)
    const j = Math.round(rh * 64);
    const b0 = rh - j * 0.015625; // exact
    const bh = b0 + rl;
    const bl = sumErr(b0, rl, bh);

    const b2h = bh * bh;
    const b2l = prodErr(bh, bh, b2h) + 2 * bh * bl;

    // sin b = b + b·b²·(−1/6 + Q)
    const Q = b2h * (1 / 120 + b2h * (-1 / 5040 + b2h * (1 / 362880 - b2h * (1 / 39916800))));
    const Ah = Q - SIXTH_H;
    const Al = -SIXTH_H - Ah + Q - SIXTH_L;
    const Wh = b2h * Ah;
    const Wl = prodErr(b2h, Ah, Wh) + b2h * Al + b2l * Ah;
    const Vh = bh * Wh;
    const Vl = prodErr(bh, Wh, Vh) + bh * Wl + bl * Wh;
    const Sh = bh + Vh;
    const Sl = bh - Sh + Vh + (bl + Vl);

    // cos b − 1 = C = −b²/2 + b⁴·(1/24 + G)
    const G = b2h * (-1 / 720 + b2h * (1 / 40320 + b2h * (-1 / 3628800 + b2h * (1 / 479001600))));
    const Hh = T24_H + G;
    const Hl = T24_H - Hh + G + T24_L;
    const Kh = b2h * Hh;
    const Kl = prodErr(b2h, Hh, Kh) + b2h * Hl + b2l * Hh;
    const K2h = b2h * Kh;
    const K2l = prodErr(b2h, Kh, K2h) + b2h * Kl + b2l * Kh;
    const halfB2 = -0.5 * b2h;
    const Ch = halfB2 + K2h;
    const Cl = halfB2 - Ch + K2h + (K2l - 0.5 * b2l);

    let sr: number;
    let cr: number;
    if (j === 0) {
      sr = Sh + Sl;
      const c1 = 1 + Ch;
      cr = c1 + (1 - c1 + Ch + Cl);
    } else {
      // sin r = sin a + sin a·C + cos a·S,  cos r = cos a + cos a·C − sin a·S
      const o = 4 * j;
      const sahH = SINCOS_SPLIT[o];
      const sahL = SINCOS_SPLIT[o + 1];
      const cahH = SINCOS_SPLIT[o + 2];
      const cahL = SINCOS_SPLIT[o + 3];
      const sah = SINCOS_TABLE[o];
      const sal = SINCOS_TABLE[o + 1];
      const cah = SINCOS_TABLE[o + 2];
      const cal = SINCOS_TABLE[o + 3];

      const p1h = sah * Ch;
      const p1l = prodErrSplit(sahH, sahL, Ch, p1h) + sah * Cl + sal * Ch;
      const p2h = cah * Sh;
      const p2l = prodErrSplit(cahH, cahL, Sh, p2h) + cah * Sl + cal * Sh;
      let u = sah + p2h;
      let e = sumErr(sah, p2h, u);
      let v = u + p1h;
      e += sumErr(u, p1h, v);
      sr = v + (e + sal + p1l + p2l);

      const p3h = cah * Ch;
      const p3l = prodErrSplit(cahH, cahL, Ch, p3h) + cah * Cl + cal * Ch;
      const p4h = sah * Sh;
      const p4l = prodErrSplit(sahH, sahL, Sh, p4h) + sah * Sl + sal * Sh;
      u = cah - p4h;
      e = sumErr(cah, -p4h, u);
      v = u + p3h;
      e += sumErr(u, p3h, v);
      cr = v + (e + cal + p3l - p4l);
    }
    if (neg) sr = -sr;

    switch (n & 3) {
      case 0:
        sinOut[i] = sr;
        cosOut[i] = cr;
        break;
      case 1:
        sinOut[i] = cr;
        cosOut[i] = -sr;
        break;
      case 2:
        sinOut[i] = -sr;
        cosOut[i] = -cr;
        break;
      default:
        sinOut[i] = -cr;
        cosOut[i] = sr;
    }
  }
}

/** Sine, correctly rounded for |x| < 2^30 (see the module comment). */
export function sin(x: number): number {
  ARG[0] = x;
  sincosArray(ARG, SIN1, COS1, 1);
  return SIN1[0];
}

/** Cosine, correctly rounded for |x| < 2^30 (see the module comment). */
export function cos(x: number): number {
  ARG[0] = x;
  sincosArray(ARG, SIN1, COS1, 1);
  return COS1[0];
}

// ---- BigInt fixed point: exp, pow, and sin/cos of large arguments -------------------------

/** Fractional bits of the fixed-point representation. */
const P = 288n;
const ONE = 1n << P;
/** x in fixed point (truncated toward zero below 2^-P; exact for |x| ≥ 2^-236). */
function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  const { neg, m, e } = decomposeDouble(x);
  const shift = BigInt(e) + P;
  const v = shift >= 0n ? m << shift : m >> -shift;
  return neg ? -v : v;
}

/** Nearest double to v·2^(k − P): BigInt → Number rounds correctly, the power of two is exact. */
function fromFixed(v: bigint, k = 0): number {
  let r = Number(v);
  let s = k - Number(P);
  // scale in exact power-of-two steps so no intermediate overflows or underflows
  while (s > 1000) {
    r *= 2 ** 1000;
    s -= 1000;
  }
  while (s < -1000) {
    r *= 2 ** -1000;
    s += 1000;
  }
  return r * 2 ** s;
}

const mulF = (a: bigint, b: bigint): bigint => (a * b) >> P;

/** atanh(s) = s + s³/3 + s⁵/5 + … for |s| < 1/2, fixed point. */
function atanhSeries(s: bigint): bigint {
  const s2 = mulF(s, s);
  let pow = s,
    sum = s;
  for (let k = 3n; ; k += 2n) {
    pow = mulF(pow, s2);
    const term = pow / k;
    if (term === 0n) break;
    sum += term;
  }
  return sum;
}

/** atan(1/n) for an integer n ≥ 2, fixed point. */
function atanInv(n: bigint): bigint {
  const n2 = n * n;
  let pow = ONE / n,
    sum = pow,
    sign = -1n;
  for (let k = 3n; ; k += 2n) {
    pow /= n2;
    const term = pow / k;
    if (term === 0n) break;
    sum += sign * term;
    sign = -sign;
  }
  return sum;
}

/** ln 2 = 2·atanh(1/3) and π/2 (Machin), fixed point; computed on first use. */
let LN2_FIXED = 0n;
let PIO2_FIXED = 0n;
function constants(): void {
  if (LN2_FIXED !== 0n) return;
  LN2_FIXED = 2n * atanhSeries(ONE / 3n);
  PIO2_FIXED = (16n * atanInv(5n) - 4n * atanInv(239n)) >> 1n;
}

/** floor(√2·2^52): mantissas above it are halved so that log's argument lies in [√½, √2). */
const SQRT2_M = 0x16a09e667f3bcdn;

/** ln(x) in fixed point for a finite x > 0. */
function logFixed(x: number): bigint {
  constants();
  let { m, e } = decomposeDouble(x);
  while (m < 1n << 52n) {
    m <<= 1n;
    e -= 1;
  } // normalize subnormals
  // x = (m / 2^52)·2^(e + 52); bring the mantissa into [√½, √2)
  let k = e + 52;
  let base = 1n << 52n;
  if (m > SQRT2_M) {
    base <<= 1n;
    k += 1;
  }
  const s = ((m - base) << P) / (m + base);
  return BigInt(k) * LN2_FIXED + 2n * atanhSeries(s);
}

/** e^y = sum·2^(k − P) for y in fixed point (|y| ≤ ~750): sum in [2^P·e^-0.35, 2^P·e^0.35]. */
function expParts(y: bigint): { sum: bigint; k: number } {
  constants();
  const k = Math.round(Number(y >> (P - 40n)) / 2 ** 40 / Math.LN2);
  const r = y - BigInt(k) * LN2_FIXED; // |r| ≤ ~0.35
  let term = ONE,
    sum = ONE;
  for (let n = 1n; ; n++) {
    term = mulF(term, r) / n;
    if (term === 0n) break;
    sum += term;
  }
  return { sum, k };
}

/** e^y for y in fixed point (|y| ≤ ~750), returned as the nearest double. */
function expFixedToDouble(y: bigint): number {
  const approx = Number(y >> (P - 40n)) / 2 ** 40;
  if (approx > 709.8) return Infinity;
  if (approx < -745.2) return 0;
  const { sum, k } = expParts(y);
  return fromFixed(sum, k);
}

/** e^x, correctly rounded. exp(±∞) = ∞ / 0, exp(NaN) = NaN. */
export function exp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x === -Infinity) return 0;
  if (Math.abs(x) < 2 ** -60) return 1;
  return expFixedToDouble(toFixed(x));
}

/**
 * e^x − 1, correctly rounded (full relative accuracy near 0, where e^x − 1 would cancel).
 * expm1(±0) = ±0, expm1(+∞) = +∞, expm1(−∞) = −1, expm1(NaN) = NaN.
 */
export function expm1(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < -40) return -1; // e^x < 2^-57: −1 + e^x rounds to −1
  if (Math.abs(x) < 2 ** -60) return x; // x + x²/2 rounds to x (keeps −0)
  if (x > 709.8) return Infinity;
  const { sum, k } = expParts(toFixed(x));
  // e^x − 1 = 2^k·(sum − 2^-k) (in units of 2^-P)
  return k >= 0 ? fromFixed(sum - (ONE >> BigInt(k)), k) : fromFixed((sum >> BigInt(-k)) - ONE);
}

/** Bit length of a positive BigInt. */
function bitLength(v: bigint): number {
  return v.toString(2).length;
}

/**
 * log(1 + x), correctly rounded (1 + x is formed exactly, so small x keeps full relative
 * accuracy). log1p(±0) = ±0, log1p(−1) = −∞, log1p(x < −1) = NaN, log1p(+∞) = +∞.
 */
export function log1p(x: number): number {
  if (Number.isNaN(x) || x < -1) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  if (Math.abs(x) < 2 ** -60) return x; // x − x²/2 rounds to x (keeps −0)
  constants();
  const v = ONE + toFixed(x); // 1 + x, exact
  // v = 2^k · w with w in [√½, √2) (fixed point)
  let k = bitLength(v) - 1 - Number(P);
  let w = k >= 0 ? v >> BigInt(k) : v << BigInt(-k);
  if (2n * w * w > 4n * ONE * ONE) {
    w >>= 1n;
    k += 1;
  }
  const s = ((w - ONE) << P) / (w + ONE);
  return fromFixed(BigInt(k) * LN2_FIXED + 2n * atanhSeries(s));
}

/** floor(√v) for a BigInt v ≥ 0 (Newton's iteration from above). */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(bitLength(v) / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** atan(s) = s − s³/3 + s⁵/5 − … for |s| ≤ 0.1, fixed point. */
function atanSeries(s: bigint): bigint {
  const s2 = mulF(s, s);
  let pow = s,
    sum = s,
    sign = -1n;
  for (let k = 3n; ; k += 2n) {
    pow = mulF(pow, s2);
    const term = pow / k;
    if (term === 0n) break;
    sum += sign * term;
    sign = -sign;
  }
  return sum;
}

/**
 * Arc tangent, correctly rounded: |x| > 1 through atan(x) = π/2 − atan(1/x), then three
 * angle halvings y → y / (1 + √(1 + y²)) and the series, all in fixed point.
 * atan(±0) = ±0, atan(±∞) = ±π/2 (rounded), atan(NaN) = NaN.
 */
export function atan(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 2 ** -27) return x; // x − x³/3 rounds to x (keeps −0)
  constants();
  const neg = x < 0;
  let y = x === Infinity || x === -Infinity ? 0n : toFixed(Math.abs(x));
  const invert = y > ONE || y === 0n;
  if (invert && y !== 0n) y = (ONE << P) / y; // 1/|x|
  for (let i = 0; i < 3; i++) y = (y << P) / (ONE + isqrt(ONE * ONE + y * y));
  let a = atanSeries(y) << 3n;
  if (invert) a = PIO2_FIXED - a;
  const r = fromFixed(a);
  return neg ? -r : r;
}

function isOddInteger(b: number): boolean {
  return Number.isInteger(b) && Math.abs(b) < 2 ** 53 && Math.abs(b % 2) === 1;
}

/**
 * a^b, correctly rounded, with C `pow`'s special cases: pow(x, 0) = pow(1, y) = 1, negative
 * bases only with integer exponents (NaN otherwise), zero and infinite operands as C does
 * (through `Math.pow`, which follows the same rules there).
 */
export function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return Math.pow(a, b);
  if (b === 1) return a;
  if (b === 2) return a * a; // the exact square rounded once
  if (b === 0.5 && a > 0) return Math.sqrt(a);
  if (a < 0) {
    if (!Number.isInteger(b)) return NaN;
    const r = pow(-a, b);
    return isOddInteger(b) ? -r : r;
  }
  const { neg, m, e } = decomposeDouble(b);
  let y = logFixed(a) * m;
  y = e >= 0 ? y << BigInt(e) : y >> BigInt(-e);
  return expFixedToDouble(neg ? -y : y);
}

/** sin and cos of r in fixed point, |r| ≤ π/4 (Taylor series). */
function sinCosFixed(r: bigint): [bigint, bigint] {
  const r2 = mulF(r, r);
  let term = r,
    sn = r;
  for (let n = 2n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    sn += term;
  }
  term = ONE;
  let cs = ONE;
  for (let n = 1n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    cs += term;
  }
  return [sn, cs];
}

/**
 * Tangent, correctly rounded (fixed point: x − q·π/2 exactly enough, then sin/cos series and
 * one division). tan(±0) = ±0; tan(±∞) = tan(NaN) = NaN.
 */
export function tan(x: number): number {
  if (x - x !== 0) return NaN;
  if (Math.abs(x) < 2 ** -27) return x; // x + x³/3 rounds to x (keeps −0)
  constants();
  const q = Math.round(x / (Math.PI / 2));
  const [sn, cs] = sinCosFixed(toFixed(x) - BigInt(q) * PIO2_FIXED);
  // tan(r + qπ/2) = tan r for even q, −cot r for odd q
  return fromFixed(q % 2 === 0 ? (sn << P) / cs : -((cs << P) / sn));
}

/** sincos for 2^20·π/2 < |x|: fixed-point reduction below 2^30, `Math.sin/cos` beyond. */
function sincosLarge(x: number, out: Float64Array): void {
  if (Math.abs(x) >= 2 ** 30) {
    out[0] = Math.sin(x);
    out[1] = Math.cos(x);
    return;
  }
  constants();
  const q = Math.round(x / (Math.PI / 2));
  const [sn, cs] = sinCosFixed(toFixed(x) - BigInt(q) * PIO2_FIXED);
  const quadrant = ((q % 4) + 4) % 4;
  out[0] = fromFixed(quadrant === 0 ? sn : quadrant === 1 ? cs : quadrant === 2 ? -sn : -cs);
  out[1] = fromFixed(quadrant === 0 ? cs : quadrant === 1 ? -sn : quadrant === 2 ? -cs : sn);
}
