import zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, initial?: number) => number;

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

/** Plain table-driven CRC-32 (IEEE), identical to zlib.crc32. Exported so tests can pin the equivalence. */
export function tableCrc32(data: Uint8Array, initial = 0): number {
  const table = (tableCache ??= buildTable());
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
let tableCache: Uint32Array | undefined;

// zlib.crc32 only exists from Node 20.15 / 22.2 while package.json allows >= 20.12, so the
// typings may claim it exists on runtimes where it does not.
const native = (zlib as { crc32?: Crc32 }).crc32;

export const crc32: Crc32 = native ?? tableCrc32;
