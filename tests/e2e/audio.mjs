// audio.mjs — audio analysis for the browser tests: a WAV reader, a
// Goertzel tone detector (levels in dB where a full-scale sine is 0 dB), and
// sampling of what a page receives (window.floorbridge.received). Re-exported
// by harness.mjs.
import { readFileSync } from 'node:fs';

/** Read a WAV file: { sampleRate, channels, samples: Float32Array (channel 0), seconds }.
 * PCM 8/16/24/32-bit and IEEE float 32/64; a header that was never finalised
 * (data size 0 or 0xFFFFFFFF) means "the rest of the file". */
export function readWav(file) {
  const buf = readFileSync(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a WAV file (${buf.length} bytes)`);
  }
  let off = 12, fmt = null, data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14),
      };
      if (fmt.format === 0xfffe && size >= 26) fmt.format = buf.readUInt16LE(body + 24); // extensible
    } else if (id === 'data') {
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      data = buf.subarray(body, body + size);
      break;
    }
    off = body + size + (size & 1);
  }
  if (!fmt || !data) throw new Error(`${file}: WAV without fmt or data chunk`);
  const bytes = fmt.bits / 8, frame = bytes * fmt.channels;
  const n = Math.floor(data.length / frame);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * frame;
    let v;
    if (fmt.format === 3) v = bytes === 4 ? data.readFloatLE(p) : data.readDoubleLE(p);
    else if (bytes === 1) v = (data[p] - 128) / 128;
    else if (bytes === 2) v = data.readInt16LE(p) / 32768;
    else if (bytes === 3) v = data.readIntLE(p, 3) / 8388608;
    else v = data.readInt32LE(p) / 2147483648;
    out[i] = v;
  }
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples: out, seconds: n / fmt.sampleRate };
}

/** Level of a tone at freq (Hz) in samples[start, start+length), in dB where a
 * full-scale sine reads 0 dB. Goertzel over a Hann window (leakage from tones a
 * few hundred Hz away is far below -100 dB); any frequency, not only bins. */
export function toneDb(samples, sampleRate, freq, start = 0, length = samples.length - start) {
  const n = Math.min(length, samples.length - start);
  if (n < 64) return -Infinity;
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0, s2 = 0, wsum = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    wsum += win;
    const s = samples[start + i] * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2);
  const amp = (2 * Math.sqrt(power)) / wsum;
  return amp > 0 ? 20 * Math.log10(amp) : -Infinity;
}

/** RMS level in dBFS. */
export function rmsDb(samples, start = 0, length = samples.length - start) {
  let s = 0;
  const n = Math.min(length, samples.length - start);
  for (let i = 0; i < n; i++) s += samples[start + i] ** 2;
  return n > 0 && s > 0 ? 10 * Math.log10(s / n) : -Infinity;
}

/** Tone level per window of `windowS` seconds (hop = windowS / 2): [dB...]. */
export function toneProfile(wav, freq, windowS = 1.0, fromS = 0, toS = wav.seconds) {
  const len = Math.round(windowS * wav.sampleRate), hop = Math.max(1, len >> 1);
  const a = Math.max(0, Math.round(fromS * wav.sampleRate));
  const b = Math.min(wav.samples.length, Math.round(toS * wav.sampleRate));
  const out = [];
  for (let p = a; p + len <= b; p += hop) out.push(toneDb(wav.samples, wav.sampleRate, freq, p, len));
  return out;
}

export const median = (xs) => {
  if (!xs.length) return -Infinity;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) / 2)];
};
export const fmtDb = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : '-inf dB');

/** Sample what the page receives (window.floorbridge.received) for ~ms, one
 * analyser window (~0.7 s) every `every` ms, the first after `every` ms:
 * { sampleRate, chunks: Float32Array[] }. */
export async function sampleReceived(page, ms = 2000, every = 500) {
  const res = await page.evaluate(async ({ ms, every }) => {
    const fb = window.floorbridge;
    const chunks = [];
    const end = performance.now() + ms;
    do {
      await new Promise((r) => setTimeout(r, every));
      chunks.push(Array.from(fb.received.getFloatTimeDomain()));
    } while (performance.now() + every <= end);
    return { sampleRate: fb.received.sampleRate, chunks };
  }, { ms, every });
  return { sampleRate: res.sampleRate, chunks: res.chunks.map((c) => Float32Array.from(c)) };
}

/** Median level of each frequency over the sampled chunks: { [freq]: dB }. */
export function receivedLevels(sampled, freqs) {
  const out = {};
  for (const f of freqs) {
    const per = sampled.chunks.filter((c) => c.length).map((c) => toneDb(c, sampled.sampleRate, f));
    out[f] = median(per);
  }
  return out;
}

/** Max over 1 s windows (hop 0.5 s) of each tone's level in [fromS, toS) of a
 * WAV; negative fromS counts from the end. { [freq]: dB } */
export function wavLevels(wav, freqs, fromS = 0, toS = wav.seconds) {
  const a = fromS < 0 ? Math.max(0, wav.seconds + fromS) : fromS;
  const out = {};
  for (const f of freqs) out[f] = Math.max(-Infinity, ...toneProfile(wav, f, 1.0, a, toS));
  return out;
}

/** Sample a page's received audio (~2 s per round) until pred(levels) holds
 * or `rounds` rounds have passed; returns the last levels. Lets mixes settle
 * (jitter buffers, a second speaker joining) without a fixed long sleep. */
export async function receivedUntil(page, freqs, pred, rounds = 4, ms = 2000) {
  let levels = null;
  for (let i = 0; i < rounds; i++) {
    levels = receivedLevels(await sampleReceived(page, ms), freqs);
    if (pred(levels)) break;
  }
  return levels;
}

export const fmtLevels = (lv) => Object.entries(lv).map(([f, d]) => `${f} Hz ${fmtDb(d)}`).join(', ');
