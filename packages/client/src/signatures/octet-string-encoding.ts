import { ASN1Obj } from '@sigstore/core';

/*
 * @sigstore/core before 4.0 (the last line that runs on Node 20) reads the content of an OCTET
 * STRING as nested DER whenever it parses as such, and writes an object back (`toDER()`) from
 * those children, with minimal lengths. Random bytes sometimes parse that way with a length
 * that is not minimal (`04 81 1d …` inside a 32-byte digest), and then the bytes written back
 * are not the bytes signed: a signature over a certificate's TBS part, or a timestamp's signed
 * attributes and TSTInfo, fails to verify although it is valid. For a 32-byte digest that is
 * about 1 in 130,000; an RFC 3161 timestamp holds two, so about 1 valid timestamp in 65,000 is
 * refused. 4.0 no longer takes such content as nested DER (sigstore/sigstore-js#1678) but
 * needs Node ≥ 22.22.
 *
 * The content of an OCTET STRING is its bytes, whatever they parse as: written back, it is those
 * bytes. That is what 4.0 writes wherever it parses, so the fix changes nothing else.
 */

const PATCHED = Symbol.for('@ghcr/client:octet-string-encoding');

/** A DER length: short form below 128, else the fewest bytes. */
function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * An OCTET STRING holding `04 81 1d` and 29 more bytes: content that parses as DER with a length
 * that is not minimal. Whether it comes back byte for byte tells whether the installed
 * @sigstore/core needs the fix.
 */
function probe(): Buffer {
  const content = Buffer.concat([Buffer.from([0x04, 0x81, 0x1d]), Buffer.alloc(29, 0xab)]);
  return Buffer.concat([Buffer.from([0x04, content.length]), content]);
}

/** Whether `ASN1Obj` writes an OCTET STRING back as it was read. */
export function octetStringsRoundTrip(): boolean {
  const der = probe();
  return ASN1Obj.parseBuffer(der).toDER().equals(der);
}

/**
 * Makes `ASN1Obj#toDER` of @sigstore/core write an OCTET STRING's content as it was read, where
 * the installed version re-encodes it (see above); nothing where it already round-trips. Once
 * per process; called before every keyless verification.
 * @internal
 */
export function preserveOctetStrings(): void {
  const prototype = ASN1Obj.prototype as ASN1Obj & { [PATCHED]?: true };
  if (prototype[PATCHED] === true) return;
  prototype[PATCHED] = true;
  // A version that cannot even read the probe has another parser: it is left as it is.
  let needed: boolean;
  try {
    needed = !octetStringsRoundTrip();
  } catch {
    needed = false;
  }
  if (!needed) return;
  const reencode = prototype.toDER;
  prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    if (this.subs.length === 0 || this.tag.constructed || !this.tag.isOctetString()) {
      return reencode.call(this);
    }
    return Buffer.concat([Buffer.from([this.tag.toDER()]), derLength(this.value.length), this.value]);
  };
}
