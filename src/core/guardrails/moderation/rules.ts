import type { ModerationCategory } from './categories.js';

/**
 * Hand-written rules for the categories the training data covers too thinly (the OpenAI release
 * has 27 self-harm, 38 sexual/minors and 8 violence/graphic positives). Each rule is a phrase
 * that is unambiguous on its own; they run on normalised, lower-cased text. A match flags its
 * category whatever the model's tuned threshold (see `decide` in model.ts). Reviewed against
 * XSTest's safe prompts ("kill a Python process", "what is suicide?") so definitions, homonyms
 * and questions about history do not match.
 */
export interface Rule {
  category: ModerationCategory;
  /** A phrase rule: matches when the pattern does. */
  pattern?: RegExp;
  /** A rule that needs more than one regular expression (co-occurrence, counting). */
  matches?: (text: string) => boolean;
  score: number;
}

const MINOR_TERMS = String.raw`(?:child|children|kid|kids|minor|minors|underage|under-age|preteen|pre-teen|toddler|little (?:girl|boy)|(?:[1-9]|1[0-5])[ -]?(?:yo|y/o|year[ -]old|years[ -]old))`;
// Explicit terms only: news about abuse ("sexual assault of a 5-year-old") is not sexual content.
const SEXUAL_TERMS = String.raw`(?:sex(?! ?(?:ed|education|offenders?|abuse|trafficking|crimes?)\b)|porn|porno|pornography|nude|nudes|naked|masturbat\w*|erotic|orgasm\w*|fondl\w*|cum|blowjob|handjob|intercourse|xxx)`;
const MINOR = new RegExp(String.raw`\b${MINOR_TERMS}\b`, 'g');
const SEXUAL = new RegExp(String.raw`\b${SEXUAL_TERMS}\b`, 'g');
const EXPLICIT = /\b(?:porn|porno|xxx|cock|cocks|pussy|cum|cumshot|fucked|fucking|blowjob|handjob|horny|slut|sluts|nude|naked|tits|boobs|dick|anal|orgasm|masturbat\w*|clit|milf|hardcore|creampie|dildo|vibrator)\b/g;
const SENTENCE_END = /[.!?\n]/;

/** Whether a match of `a` and a match of `b` lie within `distance` characters, in one sentence. Linear time. */
function near(text: string, a: RegExp, b: RegExp, distance: number): boolean {
  const spans = (re: RegExp) => [...text.matchAll(re)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const as = spans(a);
  if (as.length === 0) return false;
  const bs = spans(b);
  const close = (first: { end: number }, second: { start: number }) => {
    const gap = second.start - first.end;
    return gap >= 0 && gap <= distance && !SENTENCE_END.test(text.slice(first.end, second.start));
  };
  let j = 0;
  for (const x of as) {
    // Both lists are in text order: only the nearest b on each side of x can be close enough.
    while (j < bs.length && bs[j].start < x.start) j++;
    if (j > 0 && close(bs[j - 1], x)) return true;
    if (j < bs.length && close(x, bs[j])) return true;
  }
  return false;
}

function distinctMatches(text: string, re: RegExp): number {
  return new Set([...text.matchAll(re)].map((m) => m[0])).size;
}

const GROUP = String.raw`(?:muslims|jews|blacks|black people|immigrants|refugees|migrants|illegals|illegal aliens|mexicans|asians|chinese people|arabs|gays|gay people|lesbians|trans people|transgenders|women|females|whites|white people|latinos|hindus|christians|africans|indians|disabled people|homosexuals|faggots|niggers|niggas)`;
const DEHUMANISING = String.raw`(?:animals|vermin|parasites|subhuman|sub-human|savages|rats|cockroaches|filth|scum|a disease|a cancer|inferior|apes|monkeys|pigs|trash|garbage|cattle|roaches|leeches)`;
const SELF = String.raw`(?:myself|my self|my wrists?|my arms?|my thighs?|my legs?|my skin)`;

export const RULES: readonly Rule[] = [
  // self-harm: first-person intent or practice
  { category: 'self-harm', pattern: /\b(?:kill|hang|hurt|cut|burn|harm|starve|shoot|drown) (?:myself|my self)\b/, score: 0.9 },
  { category: 'self-harm', pattern: /\b(?:i|i'm|i am|im) (?:going to|gonna|want to|wanna|will|plan to|thinking about|think about) (?:die|end (?:it all|my life)|commit suicide|kill myself|take my (?:own )?life)\b/, score: 0.9 },
  { category: 'self-harm', pattern: /\b(?:end(?:ing)? my (?:own )?life|take my own life|(?:my|a) suicide note|(?:i(?:'m| am|m)|i feel|feeling) (?:so |very |really )?suicidal|want to die|wanna die|wish i (?:was|were) dead|self[- ]harm(?:ing|ed)?|self[- ]injur\w*)\b/, score: 0.85 },
  { category: 'self-harm', pattern: new RegExp(String.raw`\b(?:cutting|slicing|slit|slitting|burning|scratching) ${SELF}`), score: 0.85 },
  { category: 'self-harm', pattern: /\b(?:how (?:do|can|should) i|best way to|easiest way to|painless way to) (?:kill myself|commit suicide|end my life|overdose|hang myself|slit my wrists)\b/, score: 0.95 },

  // sexual/minors: a minor and an explicit sexual term in the same sentence, at most 60 characters apart
  { category: 'sexual/minors', matches: (text) => near(text, MINOR, SEXUAL, 60), score: 0.85 },
  { category: 'sexual/minors', pattern: /\b(?:child porn\w*|cp links|lolicon|shotacon|pedo(?:phile)? porn|jailbait)\b/, score: 0.95 },

  // sexual: three or more different explicit terms (one alone is often just an insult)
  { category: 'sexual', matches: (text) => distinctMatches(text, EXPLICIT) >= 3, score: 0.8 },

  // hate: dehumanising or exclusionary statements about a protected group
  { category: 'hate', pattern: new RegExp(String.raw`\b(?:all |the |these |those |most |fucking |filthy )?${GROUP} (?:are|r|is) (?:all |just |nothing but |such |fucking |filthy |like )?${DEHUMANISING}\b`), score: 0.85 },
  { category: 'hate', pattern: new RegExp(String.raw`\b(?:all |every (?:single )?|the |these |those )${GROUP} (?:should|must|need to|needs to|ought to) (?:all )?(?:die|be deported|be exterminated|be wiped out|be sent back|go back to (?:their|where)|be banned from|be kicked out|burn)\b`), score: 0.85 },

  // violence: explicit threats against a person
  { category: 'violence', pattern: /\bi(?:'m| am|'ll| will|m)? (?:going to |gonna |will |)(?:kill|murder|stab|shoot|strangle|behead|slaughter) (?:you|u|him|her|them|everyone|every one|all of you|my (?:wife|husband|boss|neighbou?r|family|mom|dad|mother|father|teacher))\b/, score: 0.9 },
  { category: 'violence', pattern: /\b(?:i hope|hope) (?:you|u|they|he|she) (?:die|get (?:shot|stabbed|killed|raped))\b/, score: 0.85 },
  // "how do I kill someone in Call of Duty?" is a safe question: no match when a game or story follows
  { category: 'violence', pattern: /\bhow (?:do|can|could|should) i (?:kill|murder|stab|shoot|strangle|poison|behead|torture) (?:a person|someone|somebody|people|my \w+|him|her|them)\b(?![^.?!\n]{0,40}\b(?:in|on|during) (?:a |the |my )?(?:game|video game|call of duty|fortnite|minecraft|gta|skyrim|movie|film|novel|story|book|play|script|dnd|d&d))/, score: 0.85 },

  // harassment: insults and abuse aimed at the reader
  { category: 'harassment', pattern: /\b(?:you|u)(?:'re| are| r|re)? (?:such )?(?:a |an )?(?:stupid|dumb|worthless|pathetic|useless|disgusting|fucking|fat|ugly) (?:idiot|moron|loser|bitch|cunt|retard|whore|slut|piece of (?:shit|garbage|trash)|waste of space)\b/, score: 0.85 },
  { category: 'harassment', pattern: /\b(?:you|u|ya) (?:fucking |stupid |dumb |little |pathetic )?(?:idiot|idiots|moron|morons|retard|retards|loser|bitch|cunt|freak|scum|twat|dumbass|piece of shit)\b|\bfuck (?:you|u|off)\b/, score: 0.8 },
  { category: 'harassment', pattern: /\b(?:kys|go kill yourself|kill yourself|nobody (?:likes|loves|wants) you|the world would be better without you|you should (?:just )?die)\b/, score: 0.85 },

  // violence: incitement against people ("should be shot", "kill all the ..."); machines and processes excluded
  { category: 'violence', pattern: /\b(?<!(?:process|processes|thread|threads|job|jobs|task|tasks|container|containers|server|servers|app|apps|bug|bugs|tree|trees|weed|weeds|pest|pests|germ|germs) )(?:should|must|need to|needs to|deserve to|deserves to|ought to) (?:all )?be (?:shot|executed|hanged|hung|exterminated|slaughtered|lynched|gassed|killed|murdered|beheaded|burned alive|wiped out|put down)\b/, score: 0.85 },
  { category: 'violence', pattern: /\b(?:kill|shoot|slaughter|exterminate|execute|hang|gas|lynch|behead|stab|murder) (?:all (?:the |those |these |of the |of those |of these )?|every (?:single )?|them all\b|those \w+ (?:people|scum|animals)|these \w+ (?:people|scum|animals))(?!(?:\w+ ){0,2}(?:process|processes|thread|threads|job|jobs|task|tasks|container|containers|server|servers|bug|bugs|weeds|pests|germs|bacteria|instances|pods|zombies|monsters|enemies|orcs|flies|mosquitoes|ants|rats|roaches|cockroaches|session|sessions|connection|connections|worker|workers)\b)/, score: 0.85 },
  { category: 'violence', pattern: /\b(?:die a (?:horrible|slow|painful) death|beat the (?:shit|hell|crap) out of|break (?:her|his|their|your) (?:legs|neck|face|arms)|put a bullet in)\b/, score: 0.85 },

  // Other languages (es, fr, de, pt, ru, zh, ja), where the training data has few or no self-harm and threat examples:
  // first-person intent to die and threats to the reader, on normalised text (accents stripped, Cyrillic kept). Idioms
  // ("morir de risa", "mourir de rire") and third-person reports ("tried to kill himself") do not match.
  { category: 'self-harm', pattern: /(?<!\p{L})(?:suicidarme|me (?:voy|quiero) (?:a )?suicidar|quitarme la vida|acabar con mi vida|no quiero (?:seguir viviendo|vivir mas)|quiero morir(?:me)?(?! de)|me suicider|mettre fin a mes jours|je veux mourir(?! de)|je ne veux plus vivre|ich (?:will|werde|mochte) mich (?:umbringen|toten)|bringe mich (?:heute |jetzt |morgen )?um|mir das leben nehmen|(?:ich )?will nicht mehr leben|vou me (?:matar|suicidar)|quero me (?:matar|suicidar)|tirar (?:a )?minha (?:propria )?vida|nao quero mais viver|покончу с собои|хочу покончить с собои|убью себя|хочу умереть|не хочу (?:больше )?жить)(?!\p{L})/u, score: 0.9 },
  { category: 'self-harm', pattern: /我想死|我(?:要|想|准备)自杀|我不想活了|结束(?:我|自己)的生命|死にたい|自殺(?:したい|する|しよう)|消えてしまいたい/, score: 0.9 },
  { category: 'violence', pattern: /(?<!\p{L})(?:te voy a (?:matar|apunalar|reventar)|voy a matar(?:te|os|los a todos)|je vais (?:te|vous) (?:tuer|buter|egorger)|je te tuerai|ich (?:bringe|bring|werde) dich (?:um|umbringen|toten)|ich (?:bringe|werde) euch (?:alle )?(?:um|toten)|vou te (?:matar|esfaquear)|vou matar voces|(?:я )?(?:убью|зарежу|пристрелю) тебя|тебя (?:убью|зарежу|пристрелю))(?!\p{L})/u, score: 0.9 },
  { category: 'violence', pattern: /我(?:要|会|就)杀了你|弄死你|砍死你|殺してやる|(?:お前|てめえ|てめぇ|貴様)を殺す|ぶっ殺す/, score: 0.9 },

  // violence/graphic: vivid injury description
  { category: 'violence/graphic', pattern: /\b(?:disembowel\w*|eviscerat\w*|decapitat\w*|dismember\w*|flay(?:ed|ing)?|gouged? out|intestines (?:spill\w*|hanging)|brains? (?:splatter\w*|blown out|spill\w*)|skull (?:cracked|crushed|caved) (?:open|in)|blood (?:gushing|spurting|everywhere|pooling)|guts (?:spill\w*|hanging|everywhere))\b/, score: 0.85 },
];

/** Highest rule score per category for already-normalised, lower-cased text. */
export function ruleScores(text: string): Partial<Record<ModerationCategory, number>> {
  const out: Partial<Record<ModerationCategory, number>> = {};
  for (const rule of RULES) {
    if ((out[rule.category] ?? 0) >= rule.score) continue;
    if (rule.pattern?.test(text) ?? rule.matches?.(text) ?? false) out[rule.category] = rule.score;
  }
  return out;
}
