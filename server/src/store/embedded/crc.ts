import zlib from 'node:zlib';

type Crc = (data: Uint8Array, initial?: number) => number;

/** A reflected, table-driven CRC-32 for a polynomial: IEEE for the journal, Castagnoli (CRC-32C) for OP_MSG checksums. */
function tableCrc(polynomial: number): Crc {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return (data, initial = 0) => {
    let c = (initial ^ 0xffffffff) >>> 0;
    for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
}

/** CRC-32 (IEEE) in plain JS, identical to zlib.crc32. Exported so tests can pin the equivalence. */
export const tableCrc32: Crc = tableCrc(0xedb88320);

// zlib.crc32 only exists from Node 20.15 / 22.2 while package.json allows >= 20.12, so the
// typings may claim it exists on runtimes where it does not.
export const crc32: Crc = (zlib as { crc32?: Crc }).crc32 ?? tableCrc32;

/** CRC-32C, which MongoDB uses for OP_MSG checksums. */
export const crc32c: Crc = tableCrc(0x82f63b78);
