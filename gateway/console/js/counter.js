// The composer's counter, the same computation as gateway/sms/counter.py count_segments
// (a test compares the two on a table of tricky strings): encoding, parts, room left.

// GSM 03.38 default alphabet (septet order) and its extension table (two septets each).
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION = "\f^{}\\[~]|€";

const SEPTETS = new Map();
for (const ch of GSM7_BASIC) SEPTETS.set(ch, 1);
for (const ch of GSM7_EXTENSION) SEPTETS.set(ch, 2);

const SINGLE_UNITS = { gsm7: 160, ucs2: 70 };
const PART_UNITS = { gsm7: { 8: 153, 16: 152 }, ucs2: { 8: 67, 16: 66 } };

export function isGsm7(ch) {
  return SEPTETS.has(ch);
}

function isLoneSurrogate(ch) {
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code >= 0xd800 && code <= 0xdfff;
}

/**
 * What sending `text` takes. Characters are code points (as Python counts them); UCS2 units
 * are UTF-16 code units, so an emoji takes two and is never split between parts.
 */
export function countSegments(text, maxParts = null, refBits = 8) {
  const chars = Array.from(text);
  const encoding = chars.every(isGsm7) ? "gsm7" : "ucs2";
  const lengths = chars.map((ch) => (encoding === "gsm7" ? SEPTETS.get(ch) : ch.length));
  const total = lengths.reduce((a, b) => a + b, 0);
  let parts = 1;
  let used = total;
  let capacity = SINGLE_UNITS[encoding];
  if (total > capacity) {
    capacity = PART_UNITS[encoding][refBits];
    used = 0;
    for (const n of lengths) {
      if (used + n > capacity) {
        parts += 1;
        used = 0;
      }
      used += n;
    }
  }
  const ucs2Characters = [];
  const seen = new Set();
  for (const ch of chars) {
    if (!isGsm7(ch) && !seen.has(ch)) {
      seen.add(ch);
      ucs2Characters.push(ch);
    }
  }
  return {
    encoding,
    parts,
    units_used: used,
    units_left: capacity - used,
    characters: chars.length,
    ucs2_characters: ucs2Characters,
    max_parts: maxParts,
    too_long: maxParts !== null && maxParts !== undefined && parts > maxParts,
    invalid: chars.some(isLoneSurrogate) ? "the text contains a broken character" : null,
  };
}

/** The text each part carries, cut where the server cuts it (for resending one part). */
export function splitParts(text, refBits = 8) {
  const chars = Array.from(text);
  const encoding = chars.every(isGsm7) ? "gsm7" : "ucs2";
  const lengths = chars.map((ch) => (encoding === "gsm7" ? SEPTETS.get(ch) : ch.length));
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total <= SINGLE_UNITS[encoding]) return [text];
  const capacity = PART_UNITS[encoding][refBits];
  const chunks = [];
  let current = "";
  let used = 0;
  chars.forEach((ch, i) => {
    if (used + lengths[i] > capacity) {
      chunks.push(current);
      current = "";
      used = 0;
    }
    current += ch;
    used += lengths[i];
  });
  chunks.push(current);
  return chunks;
}

// Look-alikes that force UCS2 for no visible gain, and their GSM 7-bit equivalents.
export const LOOK_ALIKES = new Map([
  ["\u2018", "'"], ["\u2019", "'"], ["\u201a", "'"], ["\u201b", "'"], ["\u2032", "'"],
  ["\u00b4", "'"], ["\u0060", "'"],
  ["\u201c", '"'], ["\u201d", '"'], ["\u201e", '"'], ["\u201f", '"'], ["\u2033", '"'],
  ["\u00ab", '"'], ["\u00bb", '"'],
  ["\u2010", "-"], ["\u2011", "-"], ["\u2012", "-"], ["\u2013", "-"], ["\u2014", "-"],
  ["\u2015", "-"], ["\u2212", "-"],
  ["\u2026", "..."],
  ["\u00a0", " "], ["\u2002", " "], ["\u2003", " "], ["\u2009", " "], ["\u202f", " "],
  ["\t", " "],
  ["\u200b", ""], ["\ufeff", ""],
]);

/** The characters of `text` that a look-alike replacement would change, distinct. */
export function replaceableCharacters(text) {
  return Array.from(new Set(Array.from(text).filter((ch) => LOOK_ALIKES.has(ch))));
}

export function replaceLookAlikes(text) {
  return Array.from(text, (ch) => (LOOK_ALIKES.has(ch) ? LOOK_ALIKES.get(ch) : ch)).join("");
}

/** "U+201C" for a character, shown next to it so an invisible one can be recognised. */
export function codePointLabel(ch) {
  return `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}
