// The tokenizer of a keras_s2s bundle, read from its portable description
// (tokenizer.json; the format is documented in keras_s2s/text/description.py).
//
// Every rule is applied as the description gives it: the standardization steps in
// order, the split of standardized text into token strings, the vocabulary lookup and
// the way ids become text again. A description asking for a step this port does not
// know is refused, so a newer bundle never tokenizes silently wrong.
//
// Parity with the tensorflow-text tokenizer the model was trained with is promised for
// the characters of Unicode 13 (what TensorFlow's ICU knows); the bundle's
// tokenizer_conformance.json checks it, in the browser too (web/test/).

export const FORMAT = "keras_s2s.tokenizer";
export const FORMAT_VERSION = 1;
const SPECIAL_NAMES = ["pad", "start", "end", "unk"];
const KNOWN_STEPS = new Set(["nfkc", "remove", "to_space", "collapse_spaces", "lowercase"]);
const CAPITAL_SIGMA = 0x03a3;

export class TokenizerError extends Error {
  constructor(message) {
    super(message);
    this.name = "TokenizerError";
  }
}

// A regular expression matching one code point of any of the general categories
// listed ("Cf", "Zs", or a major class such as "P").
function categoryPattern(categories) {
  return categories.map((category) => `\\p{gc=${category}}`).join("");
}

function rangeSet(ranges) {
  const set = new Set();
  for (const [first, last] of ranges) {
    for (let c = first; c <= last; c++) set.add(c);
  }
  return set;
}

// Lower-casing as the description's `lowercase` step says: Unicode full case mapping
// (the engine's, with the Final_Sigma rule), except that the `keep_case` code points
// keep their case and, for the capital sigma's choice of final form, count as neither
// cased nor case-ignorable; the overrides give a few code points the case properties
// TensorFlow's ICU gives them. Each stand-in lower-cases to one code point, so the
// masked text stays aligned with the text.
function makeLowercase(step) {
  const keep = rangeSet(step.keep_case);
  const mask = new Map();
  for (const c of keep) mask.set(c, " ");
  for (const c of step.final_sigma_overrides.cased) mask.set(c, "I");
  for (const c of step.final_sigma_overrides.case_ignorable) mask.set(c, "\u0300");
  return (text) => {
    const chars = Array.from(text);
    if (!chars.some((c) => mask.has(c.codePointAt(0)))) return text.toLowerCase();
    const sigmas = text.includes("\u03a3")
      ? Array.from(chars.map((c) => mask.get(c.codePointAt(0)) ?? c).join("").toLowerCase())
      : chars;
    return chars
      .map((c, i) => {
        const code = c.codePointAt(0);
        if (keep.has(code)) return c;
        return code === CAPITAL_SIGMA ? sigmas[i] : c.toLowerCase();
      })
      .join("");
  };
}

function makeStep(step) {
  switch (step.step) {
    case "nfkc":
      return (text) => text.normalize("NFKC");
    case "remove": {
      const pattern = new RegExp(`[${categoryPattern(step.categories)}]`, "gu");
      return (text) => text.replace(pattern, "");
    }
    case "to_space": {
      const pattern = new RegExp(`[${categoryPattern(step.categories)}]`, "gu");
      return (text) => text.replace(pattern, " ");
    }
    case "collapse_spaces":
      return (text) => text.split(" ").filter((part) => part).join(" ");
    case "lowercase":
      if (step.mapping !== "unicode_full_case_mapping") {
        throw new TokenizerError(`Unknown lowercase mapping ${JSON.stringify(step.mapping)}.`);
      }
      return makeLowercase(step);
    default:
      throw new TokenizerError(`Unknown standardization step ${JSON.stringify(step.step)}.`);
  }
}

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

export class Tokenizer {
  // `side`: one side ("source" or "target") of a parsed tokenizer.json.
  constructor(side) {
    for (const step of side.standardize) {
      if (!KNOWN_STEPS.has(step.step)) {
        throw new TokenizerError(
          `The tokenizer description asks for a standardization step ` +
            `${JSON.stringify(step.step)} this keras_s2s-web does not know: upgrade it, or ` +
            `export the model again with the keras_s2s version this page was made with.`,
        );
      }
    }
    const specials = SPECIAL_NAMES.map((name) => side.special_tokens[name]);
    specials.forEach((special, i) => {
      if (special.id !== i || side.vocabulary[i] !== special.token) {
        throw new TokenizerError(
          `The vocabulary must start with the special tokens pad, start, end, unk ` +
            `(ids 0-3); id ${i} is ${JSON.stringify(side.vocabulary[i])}.`,
        );
      }
    });
    this.level = side.level;
    this.lowercase = Boolean(side.lowercase);
    this.vocabulary = side.vocabulary;
    this.ids = new Map(side.vocabulary.map((token, id) => [token, id]));
    this.special = Object.fromEntries(SPECIAL_NAMES.map((name) => [name, side.special_tokens[name].id]));
    this.steps = side.standardize.map(makeStep);
    this.splitRules = side.split;
    this.splitPattern = new RegExp(`^[${categoryPattern(side.split.split_categories)}]$`, "u");
    this.notSplit = new Set(side.split.not_split);
    this.detokenizeRules = side.detokenize;
    if (!["char", "word", "subword"].includes(this.level)) {
      throw new TokenizerError(`Unknown tokenizer level ${JSON.stringify(this.level)}.`);
    }
  }

  // The tokenizer of one side of a parsed tokenizer.json, after checking its format.
  static fromDescription(description, side) {
    if (!description || description.format !== FORMAT) {
      throw new TokenizerError(`Not a keras_s2s tokenizer description (format ${FORMAT}).`);
    }
    if ((description.format_version ?? 0) > FORMAT_VERSION) {
      throw new TokenizerError(
        `Tokenizer description format ${description.format_version} is newer than this ` +
          `keras_s2s-web reads (${FORMAT_VERSION}): upgrade it.`,
      );
    }
    if (side !== "source" && side !== "target") {
      throw new TokenizerError(`side must be "source" or "target", got ${JSON.stringify(side)}.`);
    }
    return new Tokenizer(description[side]);
  }

  standardize(text) {
    return this.steps.reduce((value, step) => step(value), text);
  }

  // Standardized token strings of one text (before the vocabulary lookup).
  split(text) {
    const standardized = this.standardize(text);
    if (this.level === "char") return Array.from(standardized);
    const words = this.splitWords(standardized);
    if (this.level === "word") return words;
    return words.flatMap((word) => this.wordpiece(word));
  }

  splitWords(text) {
    const { separator, continuation } = this.splitRules;
    const tokens = [];
    for (const chunk of text.split(separator)) {
      let piece = "";
      let glued = false; // whether the next token continues the chunk
      for (const char of chunk) {
        if (this.splitPattern.test(char) && !this.notSplit.has(char.codePointAt(0))) {
          if (piece) {
            tokens.push(glued ? continuation + piece : piece);
            glued = true;
            piece = "";
          }
          tokens.push(glued ? continuation + char : char);
          glued = true;
        } else {
          piece += char;
        }
      }
      if (piece) tokens.push(glued ? continuation + piece : piece);
    }
    return tokens;
  }

  // WordPiece: greedy longest match; a too long word or an unmatched part is <unk>.
  wordpiece(word) {
    const { continuation, max_bytes_per_word: maxBytes } = this.splitRules;
    const unk = this.vocabulary[this.special.unk];
    if (utf8Length(word) > maxBytes) return [unk];
    const chars = Array.from(word);
    const pieces = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let piece = null;
      while (end > start) {
        const candidate = (start > 0 ? continuation : "") + chars.slice(start, end).join("");
        if (this.ids.has(candidate)) {
          piece = candidate;
          break;
        }
        end -= 1;
      }
      if (piece === null) return [unk];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }

  // One text -> ids (no start or end token); unknown token strings are <unk>.
  tokenize(text) {
    if (typeof text !== "string") {
      throw new TokenizerError(`tokenize() takes a string, got ${typeof text}.`);
    }
    return this.split(text).map((token) => this.ids.get(token) ?? this.special.unk);
  }

  // Ids -> token strings: stops at the end token, skips padding and the start token.
  tokens(ids) {
    const rules = this.detokenizeRules;
    const skip = new Set(rules.skip.map((name) => this.special[name]));
    const out = [];
    for (const id of ids) {
      if (id === this.special[rules.stop_at]) break;
      if (skip.has(id)) continue;
      if (!(id >= 0 && id < this.vocabulary.length)) {
        throw new TokenizerError(`Token id ${id} is outside this vocabulary of ${this.vocabulary.length} tokens.`);
      }
      out.push(this.vocabulary[id]);
    }
    return out;
  }

  detokenize(ids) {
    const rules = this.detokenizeRules;
    let text = this.tokens(ids).join(rules.join);
    if (rules.remove_leading && text.startsWith(rules.remove_leading)) {
      text = text.slice(rules.remove_leading.length);
    }
    for (const pattern of rules.remove) text = text.split(pattern).join("");
    return text;
  }
}
