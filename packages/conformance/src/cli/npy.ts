/**
 * NumPy's .npy format, version 1.0, for one float array: the magic string, a little-endian
 * header length, a Python-dict header padded so the data starts at a multiple of 64 bytes,
 * then the values in C order as '<f8' (Float64Array) or '<f4' (Float32Array), little-endian
 * whatever the host. `numpy.load` reads the result as is.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The header dict numpy writes: `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`. */
function headerText(descr: string, shape: readonly number[]): string {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
}

/** Encode `data` with `shape` (C order) as an .npy v1.0 file. */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new RangeError(`encodeNpy: shape [${shape.join(", ")}] must hold non-negative integers`);
  if (count !== data.length)
    throw new RangeError(`encodeNpy: ${data.length} values do not fill shape [${shape.join(", ")}]`);
  const f32 = data instanceof Float32Array;
  const width = f32 ? 4 : 8;
  let header = headerText(f32 ? "<f4" : "<f8", shape);
  // magic (6) + version (2) + header length (2) + header, ending in "\n", padded to 64
  const unpadded = 10 + header.length + 1;
  header += `${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 0xffff)
    throw new RangeError(`encodeNpy: shape [${shape.join(", ")}] makes a header too long for format 1.0`);
  const out = new Uint8Array(10 + header.length + count * width);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  if (f32) for (let i = 0; i < count; i++) view.setFloat32(start + 4 * i, data[i], true);
  else for (let i = 0; i < count; i++) view.setFloat64(start + 8 * i, data[i], true);
  return out;
}
