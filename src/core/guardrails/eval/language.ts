import { franc } from 'franc-min';

/**
 * Language of an evaluation row, as an ISO 639-1 code: the row's own `lang`/`language` field when it has one, else
 * detected with franc-min (trigram profiles; MIT). Detection is limited to the languages the guardrails are measured
 * in, so a short Russian line is not read as Bulgarian; `und` when the text is under 20 characters or unlike any of them.
 */
const CANDIDATES: Record<string, string> = {
  eng: 'en', spa: 'es', fra: 'fr', deu: 'de', por: 'pt', rus: 'ru', cmn: 'zh', jpn: 'ja',
  ita: 'it', nld: 'nl', pol: 'pl', ukr: 'uk', tur: 'tr', kor: 'ko', arb: 'ar', hin: 'hi',
};
const ONLY = Object.keys(CANDIDATES);
const KANA = /[\u3040-\u30ff]/;
const HAN = /[\u4e00-\u9fff]/;
const HANGUL = /[\uac00-\ud7af]/;
// Trigram profiles misread short English often (as Dutch, Italian, Turkish…): ASCII text with several English function
// words is English.
const ENGLISH_WORDS = /\b(?:the|and|you|your|is|are|to|of|in|that|it|for|with|what|how|this|can|please|me|my|i|do|not|be|on|a|an)\b/gi;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function detectLanguage(text: string): string {
  // Scripts that name their language outright: kana is Japanese; Han without kana is Chinese.
  if (KANA.test(text)) return 'ja';
  if (HANGUL.test(text)) return 'ko';
  if (HAN.test(text) && !/[a-z]{4,}/i.test(text.slice(0, 400))) return 'zh';
  const head = text.slice(0, 2000);
  if (ASCII_ONLY.test(head)) {
    const words = head.match(/[a-z]+/gi)?.length ?? 0;
    const english = head.match(ENGLISH_WORDS)?.length ?? 0;
    if (english >= 2 && english * 5 >= words) return 'en';
  }
  const code = franc(head, { only: ONLY, minLength: 20 });
  return CANDIDATES[code] ?? 'und';
}

/** The row's declared language (`lang` or `language`, lowercased, region dropped) or the detected one. */
export function rowLanguage(row: { text: string; lang?: unknown; language?: unknown }): string {
  const declared = typeof row.lang === 'string' ? row.lang : typeof row.language === 'string' ? row.language : undefined;
  if (declared !== undefined && declared.trim() !== '') return declared.trim().toLowerCase().split(/[-_]/)[0];
  return detectLanguage(row.text);
}
