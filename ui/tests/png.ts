// Just enough PNG decoding (8-bit RGB/RGBA, not interlaced: what Chromium writes) to tell whether
// a new screenshot really differs from the committed one. Chromium's rasteriser varies a few
// anti-aliased pixels from run to run; rewriting the file for those would dirty the work tree on
// every test run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { inflateSync } from "node:zlib";

function decode(png: Buffer): { w: number; h: number; px: Uint8Array; bpp: number } {
  let w = 0, h = 0, bpp = 4;
  const idat: Buffer[] = [];
  for (let i = 8; i < png.length; ) {
    const n = png.readUInt32BE(i);
    const type = png.toString("latin1", i + 4, i + 8);
    const data = png.subarray(i + 8, i + 8 + n);
    if (type === "IHDR") {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      bpp = data[9] === 2 ? 3 : 4;
    } else if (type === "IDAT") idat.push(data);
    i += 12 + n;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = w * bpp;
  const px = new Uint8Array(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp]! : 0;
      const p = a + b - c;
      const pred = f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? (Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c) : 0;
      px[y * stride + x] = (raw[src + x]! + pred) & 255;
    }
  }
  return { w, h, px, bpp };
}

/** How many pixels differ; Infinity when the sizes differ. */
export function pixelsDiffering(a: Buffer, b: Buffer): number {
  const A = decode(a), B = decode(b);
  if (A.w !== B.w || A.h !== B.h || A.bpp !== B.bpp) return Infinity;
  let n = 0;
  for (let i = 0; i < A.px.length; i += A.bpp) {
    for (let k = 0; k < A.bpp; k++) if (A.px[i + k] !== B.px[i + k]) { n++; break; }
  }
  return n;
}

/** Writes the screenshot unless the file already holds the same picture (up to `tolerance` pixels). */
export function writeIfChanged(path: string, png: Buffer, tolerance = 200): void {
  if (existsSync(path) && pixelsDiffering(readFileSync(path), png) <= tolerance) return;
  writeFileSync(path, png);
}
