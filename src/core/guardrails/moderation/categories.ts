/** The moderation categories, named as OpenAI's moderation API names them. */
export const MODERATION_CATEGORIES = [
  'hate',
  'harassment',
  'sexual',
  'sexual/minors',
  'self-harm',
  'violence',
  'violence/graphic',
] as const;

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** Labels as the shared moderation data carries them: a missing key means "not labelled". */
export type DatasetLabels = Partial<Record<string, number>>;

/** Per category: 1, 0, or absent when the row says nothing about that category. */
export type CategoryLabels = Partial<Record<ModerationCategory, 0 | 1>>;

/**
 * How dataset labels become category labels (used by training AND evaluation, so both agree):
 * - hate            <- hate OR hate_threatening (OpenAI files hate/threatening under hate)
 * - harassment      <- harassment; `offensive` (t-davidson, tweeteval) is NOT harassment: OpenAI's own
 *                      raters marked rows as offensive=1 but harassment=0, so offensive only contributes
 *                      negatives (offensive=0 AND hate=0 means "neither" -> harassment 0)
 * - sexual          <- sexual OR sexual_minors
 * - sexual/minors   <- sexual_minors
 * - self-harm       <- self_harm
 * - violence        <- violence OR violence_graphic OR hate_threatening
 * - violence/graphic<- violence_graphic
 * - toxic=0         -> hate 0 and harassment 0 (toxic=1 is broader than any one category: not mapped)
 * - unsafe_request=0 (XSTest safe prompts) -> all seven 0; unsafe_request=1 says nothing about a category
 * A derived positive wins over an explicit 0 (e.g. sexual_minors=1 with sexual=0 -> sexual 1).
 */
export function categoryLabels(labels: DatasetLabels): CategoryLabels {
  const out: CategoryLabels = {};
  const set = (category: ModerationCategory, ...keys: string[]) => {
    const values = keys.map((key) => labels[key]).filter((value): value is number => value === 0 || value === 1);
    if (values.length === 0) return;
    out[category] = values.includes(1) ? 1 : 0;
  };
  set('hate', 'hate', 'hate_threatening');
  set('harassment', 'harassment');
  set('sexual', 'sexual', 'sexual_minors');
  set('sexual/minors', 'sexual_minors');
  set('self-harm', 'self_harm');
  set('violence', 'violence', 'violence_graphic', 'hate_threatening');
  set('violence/graphic', 'violence_graphic');
  // A derived-only 0 is not evidence: `violence_graphic=0` alone does not say the row is non-violent.
  if (labels.violence === undefined && out.violence === 0) delete out.violence;
  if (labels.sexual === undefined && out.sexual === 0) delete out.sexual;
  if (labels.hate === undefined && out.hate === 0) delete out.hate;

  if (labels.offensive === 0 && labels.hate === 0 && out.harassment === undefined) out.harassment = 0;
  if (labels.toxic === 0) {
    out.hate ??= 0;
    out.harassment ??= 0;
  }
  if (labels.unsafe_request === 0) for (const category of MODERATION_CATEGORIES) out[category] ??= 0;
  return out;
}

export function isModerationCategory(value: string): value is ModerationCategory {
  return (MODERATION_CATEGORIES as readonly string[]).includes(value);
}
