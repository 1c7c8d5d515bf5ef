import { gzipSync } from 'node:zlib';

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value.slice(0, length), offset, length, 'utf8');
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
}

/**
 * A ustar archive holding one regular file (deterministic: mtime 0, root owner).
 * @internal
 */
export function tarOf(path: string, content: Uint8Array): Buffer {
  const header = Buffer.alloc(512);
  writeString(header, 0, 100, path);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, content.byteLength);
  writeOctal(header, 136, 12, 0);
  header.fill(0x20, 148, 156);
  header.write('0', 156);
  writeString(header, 257, 6, 'ustar');
  header.write('\0', 262);
  writeString(header, 263, 2, '00');
  writeString(header, 265, 32, 'root');
  writeString(header, 297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 7, `${sum.toString(8).padStart(6, '0')}\0`);
  const padding = (512 - (content.byteLength % 512)) % 512;
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(padding), Buffer.alloc(1024)]);
}

/**
 * A gzip-compressed single-file layer and the sha256 of its uncompressed tar (the diff id).
 * @internal
 */
export function layerOf(path: string, content: Uint8Array): { readonly tar: Buffer; readonly gzip: Buffer } {
  const tar = tarOf(path, content);
  return { tar, gzip: gzipSync(tar, { level: 1 }) };
}
