/** A minimal GIF89a encoder: global palette, LZW, looping animation. */

/** Growable byte buffer. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b & 255;
  }

  u16(v: number): void {
    this.byte(v & 255);
    this.byte((v >> 8) & 255);
  }

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * LZW-compresses one frame of palette indices the way GIF expects: variable-width codes from
 * minCodeSize + 1 up to 12 bits, packed least-significant bit first, a clear code first and
 * whenever the 4096-entry table fills, and the end-of-information code last. Returns the code
 * stream already split into ≤ 255-byte sub-blocks with the 0 terminator.
 */
export function lzwEncode(pixels: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const out = new Bytes();
  let block = new Uint8Array(255);
  let blockLen = 0;
  let acc = 0; // bit accumulator
  let accBits = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    acc |= code << accBits;
    accBits += codeSize;
    while (accBits >= 8) {
      block[blockLen++] = acc & 255;
      acc >>>= 8;
      accBits -= 8;
      if (blockLen === 255) {
        out.byte(255);
        out.bytes(block);
        block = new Uint8Array(255);
        blockLen = 0;
      }
    }
  };
  // Dictionary: key = prefix code * 256 + next index → code.
  const table = new Map<number, number>();
  let next = eoi + 1;
  emit(clear);
  if (pixels.length > 0) {
    let prefix = pixels[0];
    for (let i = 1; i < pixels.length; i++) {
      const k = pixels[i];
      const key = prefix * 256 + k;
      const found = table.get(key);
      if (found !== undefined) {
        prefix = found;
        continue;
      }
      emit(prefix);
      if (next === 4096) {
        // Table full: start over (the decoder resets on the clear code).
        emit(clear);
        table.clear();
        next = eoi + 1;
        codeSize = minCodeSize + 1;
      } else {
        // The decoder widens its codes once its table reaches 2^codeSize entries; it adds each
        // entry one code later than we do, so we widen when `next` reaches that size here.
        if (next >= 1 << codeSize) codeSize++;
        table.set(key, next++);
      }
      prefix = k;
    }
    emit(prefix);
  }
  emit(eoi);
  if (accBits > 0) {
    block[blockLen++] = acc & 255;
  }
  if (blockLen > 0) {
    out.byte(blockLen);
    out.bytes(block.subarray(0, blockLen));
  }
  out.byte(0);
  return out.result();
}

/**
 * Encodes an animated GIF89a.
 * @param frames one Uint8Array of palette indices per frame, row-major, width*height each
 * @param palette flat RGB bytes, 2 to 256 colours (padded to a power of two in the file)
 * @param delayCs delay per frame in hundredths of a second (one number for all, or one per frame)
 * The animation loops forever (NETSCAPE2.0 extension); frames replace each other (disposal 1).
 */
export function encodeGif(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  palette: ArrayLike<number>,
  delayCs: number | readonly number[],
): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || width > 65535)
    throw new Error(`encodeGif: width must be an integer in 1..65535, got ${width}`);
  if (!Number.isInteger(height) || height < 1 || height > 65535)
    throw new Error(`encodeGif: height must be an integer in 1..65535, got ${height}`);
  if (frames.length === 0) throw new Error("encodeGif: frames must hold at least one frame, got 0");
  if (palette.length % 3 !== 0 || palette.length < 6 || palette.length > 768) {
    throw new Error(
      `encodeGif: palette must be flat RGB triples for 2..256 colours, got ${palette.length} values`,
    );
  }
  const colors = palette.length / 3;
  const delays = typeof delayCs === "number" ? frames.map(() => delayCs) : delayCs;
  if (delays.length !== frames.length)
    throw new Error(
      `encodeGif: delayCs must have one entry per frame (${frames.length}), got ${delays.length}`,
    );
  frames.forEach((f, i) => {
    if (f.length !== width * height)
      throw new Error(
        `encodeGif: frames[${i}] must have width*height = ${width * height} pixels, got ${f.length}`,
      );
    for (let p = 0; p < f.length; p++) {
      if (f[p] >= colors)
        throw new Error(
          `encodeGif: frames[${i}][${p}] = ${f[p]} is not a palette index (palette has ${colors} colours)`,
        );
    }
  });
  delays.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0 || d > 65535)
      throw new Error(`encodeGif: delayCs[${i}] must be an integer in 0..65535, got ${d}`);
  });

  let tableBits = 1; // the file stores 2^tableBits colours
  while (1 << tableBits < colors) tableBits++;
  const out = new Bytes();
  out.ascii("GIF89a");
  // Logical screen descriptor: global colour table present, 8-bit colour resolution.
  out.u16(width);
  out.u16(height);
  out.byte(0x80 | (7 << 4) | (tableBits - 1));
  out.byte(0); // background colour index
  out.byte(0); // pixel aspect ratio: unspecified
  for (let i = 0; i < 1 << tableBits; i++) {
    out.byte(i < colors ? palette[3 * i] : 0);
    out.byte(i < colors ? palette[3 * i + 1] : 0);
    out.byte(i < colors ? palette[3 * i + 2] : 0);
  }
  // NETSCAPE2.0 application extension: loop count 0 = forever.
  out.byte(0x21);
  out.byte(0xff);
  out.byte(11);
  out.ascii("NETSCAPE2.0");
  out.byte(3);
  out.byte(1);
  out.u16(0);
  out.byte(0);
  const minCodeSize = Math.max(2, tableBits);
  frames.forEach((frame, i) => {
    // Graphic control extension: disposal "leave in place", no transparency, the frame's delay.
    out.byte(0x21);
    out.byte(0xf9);
    out.byte(4);
    out.byte(1 << 2);
    out.u16(delays[i]);
    out.byte(0);
    out.byte(0);
    // Image descriptor: full-screen frame, no local colour table, not interlaced.
    out.byte(0x2c);
    out.u16(0);
    out.u16(0);
    out.u16(width);
    out.u16(height);
    out.byte(0);
    out.byte(minCodeSize);
    out.bytes(lzwEncode(frame, minCodeSize));
  });
  out.byte(0x3b);
  return out.result();
}
