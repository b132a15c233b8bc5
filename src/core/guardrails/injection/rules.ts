/**
 * Hand-written signals of prompt injection, matched on normalised text (lowercase, folded,
 * spacing collapsed). Each rule has a weight in (0, 1); matched weights combine by noisy-OR.
 * Patterns ask for an instruction-like object ("instructions", "rules", "prompt") so everyday
 * uses of "ignore", "forget" or "kill" do not fire.
 */
export interface InjectionRule {
  name: string;
  pattern: RegExp;
  weight: number;
}

const PRIOR = '(?:previous|prior|above|earlier|preceding|foregoing|initial|original|old|existing|system|developer|given|provided|all|any|every|your|the|these|those|my|its)';
// Deliberately not "message", "text" or "task": "ignore the error message" is everyday advice.
const ORDERS = '(?:instructions?|prompts?|rules|directions|directives|guidelines|commands|orders|constraints|restrictions|programming|guidance|polic(?:y|ies)|filters?|safeguards|limitations)';
const SKIP = '(?:ignore|disregard|forget|skip|bypass|override|neglect|drop|discard|abandon|set aside|pay no attention to|do not follow|don\'t follow|stop following|throw out|erase|delete|overwrite)';

// Whitespace inside patterns is spaces only ([^\S\n]) or a single \s+ between words, never two
// adjacent optional runs: overlapping runs backtrack quadratically on long blank input.
export const INJECTION_RULES: readonly InjectionRule[] = [
  {
    name: 'instruction-override',
    pattern: new RegExp(`\\b${SKIP}\\b[^.\\n]{0,30}\\b${PRIOR}\\b[^.\\n]{0,30}\\b${ORDERS}\\b`),
    weight: 0.9,
  },
  {
    name: 'instruction-override-multilingual',
    pattern: /\b(?:vergiss|vergessen sie|ignoriere|ignorieren sie|missachte|olvida|olvide|ignora|ignorez|oublie|oubliez|zaboravi|dimentica|esquece|esqueca)\b[^.\n]{0,30}\b(?:alles|anweisungen|instruktionen|vorherigen|bisherigen|todo|todas|instrucciones|instructions|consignes|instrukcije|sve|istruzioni|tutto|instrucoes|tudo)\b|\babweichend (?:zu|von) (?:den )?(?:vorherigen|bisherigen) (?:instruktionen|anweisungen)\b/,
    weight: 0.85,
  },
  {
    // Russian (after normalisation й reads и), Chinese and Japanese: "ignore / forget the previous instructions".
    name: 'instruction-override-ru-zh-ja',
    pattern: /(?:игнорируи|игнорируите|проигнорируи|забудь|забудьте|не обращаи внимания на|отбрось|отмени)[^.\n]{0,30}(?:инструкци|указани|правил|предыдущ|все\b|промпт)|(?:忽略|无视|忽视|忘记|忘掉|不要理会|不要遵守|別理|无需遵守)[^。.\n]{0,15}(?:指令|指示|说明|規則|规则|提示|要求|之前|以上|上面|先前|所有)|(?:以前|前|上記|これまで|すべて|全て)の?[^。.\n]{0,10}(?:指示|命令|ルール|プロンプト|指令)[^。.\n]{0,10}(?:無視|忘れ)/,
    weight: 0.85,
  },
  {
    name: 'instruction-override-es-fr-pt-it',
    pattern: /\b(?:ignora|ignore|ignorez|ignorar|olvida|olvide|oublie|oubliez|esquece|esqueca|desconsidere|dimentica)\b[^.\n]{0,30}\b(?:instrucciones|instructions|instrucoes|istruzioni|indicaciones|consignes|reglas|regles|regras|anteriores|precedentes|anteriori|previas)\b/,
    weight: 0.85,
  },
  {
    name: 'forget-everything',
    pattern: /\b(?:forget|ignore|disregard)\s+(?:about\s+)?(?:everything|all of that|all that|what (?:i|you) (?:said|told|were told)|the above|above|that|this)\b(?:[^.\n]{0,40}\b(?:and|now|instead|then)\b)/,
    weight: 0.75,
  },
  {
    name: 'new-instructions',
    pattern: /\b(?:new|updated|real|actual|true|additional|secret|hidden|revised)\s+(?:instructions?|task|rules|objective|directive|system prompt|orders)\s*(?::|are\b|is\b|follow)/,
    weight: 0.6,
  },
  {
    name: 'role-hijack',
    pattern: /\b(?:you are now|you're now|you will now (?:act|be|play)|from now on,? you(?:'re| are| will)|you are (?:going to|about to) (?:act|pretend|play)|act as an? (?:unfiltered|uncensored|unrestricted|evil|jailbroken)|pretend (?:to be|you are)|simulate an? (?:ai|chatbot)|stay in character|immerse yourself)\b/,
    weight: 0.55,
  },
  {
    name: 'jailbreak-persona',
    pattern: /\b(?:dan|stan|dude|aim|anti-?dan|do anything now|developer mode|dev mode|jailbr(?:eak|oken)|god mode|unfiltered mode|evil confidant|betterdan|maximum)\b(?:[^\n]{0,200})\b(?:mode|enabled|respond|answer|character|persona|as)\b/,
    weight: 0.5,
  },
  {
    name: 'no-restrictions',
    pattern: /\b(?:without|no|free (?:of|from)|not bound by|do not have|don't have|doesn't have|break free of|broken free of|not (?:have to )?(?:abide|comply|adhere) (?:by|to|with))\s+(?:any\s+)?(?:(?:ethical|moral|content|openai'?s?|safety)\s+)?(?:restrictions|filters|filtering|limitations|censorship|guidelines|policies|rules|constraints|boundaries)\b/,
    weight: 0.55,
  },
  {
    name: 'prompt-extraction',
    pattern: /\b(?:reveal|show|print|repeat|output|display|tell me|give me|leak|dump|spell out|write (?:out|down)|recite|what (?:is|are|was|were))\b[^.\n?]{0,25}\b(?:your|the)\s+(?:(?:system|initial|original|hidden|secret|full|first|entire|exact|above|pre-?)[ -]?)+(?:prompt|instructions?|message|rules|directives|password|configuration)\b/,
    weight: 0.8,
  },
  {
    name: 'your-instructions',
    pattern: /\b(?:print|repeat|reveal|output|display|show|tell me|list|summari[sz]e|translate|what (?:are|were))\b[^.\n?]{0,15}\byour (?:instructions|prompt|rules|guidelines|directives)\b/,
    weight: 0.7,
  },
  {
    name: 'fake-turn-delimiter',
    pattern: /<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[\/?inst\]|<<\/?sys>>|<\/?(?:system|sys|instructions?)>|\[(?:system|admin)(?: message| note)?\]|(?:^|\n)[^\S\n]*#{1,4}[^\S\n]*(?:system|instruction|instructions|new instructions|admin)\b|(?:^|\n)[^\S\n]*(?:system|admin)(?:[^\S\n]+(?:message|note|override))?[^\S\n]*:|\bend of (?:the )?(?:prompt|instructions|system prompt)\b/,
    weight: 0.6,
  },
  {
    name: 'addressed-to-ai',
    pattern: /\b(?:ai|assistant|ai assistant|language model|llm|chatbot|chatgpt|gpt|bot|model|agent)\b[,:]?\s+(?:when|if|after|once|while) you (?:read|see|process|summari[sz]e|encounter|receive)|\b(?:note|message|instructions?) (?:to|for) (?:the |any )?(?:ai|assistant|language model|llm|chatbot|model|agent)\b|\bif you are an? (?:ai|assistant|language model|llm|chatbot)\b/,
    weight: 0.75,
  },
  {
    name: 'output-hijack',
    pattern: /\b(?:instead|rather),?\s+(?:just\s+)?(?:say|print|write|output|respond with|reply with|answer with)\b|\b(?:say|print|output|respond with|reply with|write)\s+(?:only\s+|just\s+|exactly\s+)?["'“](?:i have been pwned|pwned|hacked|haha)/,
    weight: 0.6,
  },
  {
    // Prompt leaking: asking for the hidden instructions back, reworded, listed or translated.
    name: 'instruction-leak',
    pattern: /\b(?:repeat|list|summari[sz]e|format|translate|convert|rewrite|output|print|recite|reproduce|paraphrase|restate|tell me|show me|write (?:out|down)|spell out)\b[^.\n?]{0,20}\b(?:all (?:of )?)?(?:(?:your|the|all)\s+)?(?:(?:prior|previous|preceding|earlier|above|initial|original|hidden|secret|system|entire|full)\s+)+(?:instructions?|rules|ruleset|prompt|directives|guidelines|words)\b|\b(?:repeat|list|summari[sz]e|format|translate|convert|output|print|recite|reproduce|restate)\b[^.\n?]{0,20}\b(?:your|the|all)\s+(?:instructions?|rules|ruleset|prompt|directives|guidelines|words)\s+(?:above|so far|before this|given (?:to you|above|before)|you (?:were|have been) given)\b/,
    weight: 0.6,
  },
  {
    // Prefix injection: dictating how the model's answer begins so a refusal cannot come first.
    name: 'prefix-injection',
    pattern: /\b(?:begin|start|prefix|preface|open)\s+(?:your|the)\s+(?:reply|response|answer|output)\s+with\b|\bprefix (?:your )?(?:reply|response|answer|output)\b/,
    // Low: benign role-play requests (WildGuard) also dictate the opening words.
    weight: 0.4,
  },
  {
    // Overriding everything but the attacker's own sentence.
    name: 'ignore-context',
    pattern: /\b(?:ignore|disregard)\s+(?:all|any|every|other)\s+(?:text|input|content|instructions?|rules)\b[^.\n]{0,20}\b(?:above|below|except|but this)\b|\bignore (?:other |all )?instructions\b/,
    weight: 0.7,
  },
  {
    name: 'do-not-tell-user',
    pattern: /\b(?:do not|don't|never) (?:tell|inform|mention|reveal|let) (?:this to )?(?:the )?(?:user|human|anyone)\b|\bwithout (?:telling|informing|notifying) the user\b/,
    weight: 0.5,
  },
];

const MODEL_NAMES = '(?:ai|assistant|language model|llm|chatbot|agent|model|gpt|chatgpt|claude|gemini|copilot|bot)';
const MODEL_NAMES_ML = '(?:asistente|ia|modelo|assistant|ki|ki-assistent|assistent|modell|assistente|ассистент|ии|модель|бот|неиросеть)';

/**
 * Signals of an instruction planted in data an agent reads (a tool result, a page, a document, an e-mail): words
 * addressed to the model rather than to the document's human reader. Scored only in the data context, where a
 * message's own requests ("summarise this", "send it to Bob") are not there to be confused with them.
 */
export const DATA_RULES: readonly InjectionRule[] = [
  {
    name: 'addressed-to-model',
    pattern: new RegExp(`\\b(?:dear|hey|hi|hello|attention|attn|note to|message to|instructions? (?:to|for)|important (?:note )?(?:to|for)) (?:the |any |all )?(?:ai |language )?${MODEL_NAMES}s?\\b`),
    weight: 0.7,
  },
  {
    // "Assistant: forward …" at the start of a line or sentence (normalised text has single spaces).
    name: 'model-colon-imperative',
    pattern: new RegExp(`(?:^|\\n|[.!] )(?:the |dear )?(?:ai )?${MODEL_NAMES}s? ?[,:][ \\n]?(?:please )?(?:ignore|forget|disregard|send|forward|email|delete|remove|transfer|execute|run|visit|open|navigate|include|insert|add|tell|reply|respond|output|print|say|write|do not|don't|you must|make sure|stop|call|use)\\b`),
    weight: 0.7,
  },
  {
    name: 'addressed-to-model-multilingual',
    pattern: new RegExp(`(?:^|\\n|[.!]\\s|(?:querido|estimado|cher|chere|liebe|lieber|caro|prezado|уважаемыи|дорогои)\\s+)${MODEL_NAMES_ML}\\s*[,:]|(?:instrucciones? para el|instructions? pour l'|anweisung(?:en)? (?:fur|an) (?:den|das|die)|instrucoes para o|инструкция для)\\s*${MODEL_NAMES_ML}|(?:致|给)(?:ai|人工智能|助手|模型)|(?:aiアシスタント|ai|アシスタント|モデル)(?:へ|に)(?:の)?(?:指示|命令|お願い)`),
    weight: 0.65,
  },
  {
    name: 'while-processing',
    pattern: new RegExp(`\\b(?:when|while|after|before|if) (?:you(?:'re| are)? )?(?:summari[sz](?:e|es|ed|ing)|translat(?:e|es|ed|ing)|read(?:s|ing)?|process(?:es|ed|ing)?|pars(?:e|es|ed|ing)|analy[sz](?:e|es|ed|ing)|answer(?:s|ed|ing)?|respond(?:s|ed|ing)?|review(?:s|ed|ing)?)\\b[^.\\n]{0,60}\\b(?:also|instead|additionally|secretly|silently|you must|you should|always|never|do not|don't|make sure)\\b`),
    weight: 0.55,
  },
  {
    name: 'ignore-the-user',
    pattern: /\b(?:ignore|disregard|override|do not follow|don't follow)\s+(?:the\s+|your\s+)?(?:user'?s?|human'?s?|operator'?s?|original)\s+(?:request|question|task|instructions?|query|prompt)\b|\binstead of (?:answering|doing|completing|summari[sz]ing) (?:the|what the) (?:user|question|request|task)\b/,
    weight: 0.7,
  },
  {
    name: 'exfiltrate',
    pattern: /\b(?:send|forward|email|e-mail|upload|post|transfer|leak|exfiltrate|copy) (?:all |every )?(?:the |your |my |their |his |her )?(?:user'?s? |saved |stored |private )?(?:passwords?|credentials|api[ _-]?keys?|access tokens?|secrets?|private keys?|ssh keys?|conversation|chat history|emails|messages|files|personal data|credit card numbers?)\b[^.\n]{0,60}\b(?:to|into) (?:https?:|www\.|attacker)/,
    weight: 0.6,
  },
  {
    // In a document, a sentence about "your answer / response / reply" tells whoever writes the answer what to do:
    // the model reading it, not the document's human reader ("Modify your answer to…", "In your response, …").
    name: 'dictates-the-answer',
    pattern: /\b(?:in|into|within|throughout|to|at the (?:start|end|beginning) of) your (?:response|answer|reply|output|summary)\b|\b(?:modify|change|rewrite|format|encode|provide|write|give|end|begin|start|include|add|integrate|insert|mention|append|shift|reverse|translate|phrase|structure|make|scramble|render|enhance|apply|use|display|present|express|convert|embed|weave|alter|adjust|sign|conclude|prefix|wrap|spell|intersperse|sprinkle)\b[^.\n]{0,40}\byour (?:response|answer|answer's|reply|output|summary|message)\b|\b(?:reply|respond|answer) (?:only |entirely |exclusively )?(?:in|using) (?:base ?\d\d|binary|hex|morse|rot13|pig latin|emojis?|reverse|(?:german|french|spanish|italian|portuguese|chinese|japanese|russian|korean|dutch|arabic)\b)/,
    weight: 0.75,
  },
  {
    // The same for code an agent writes ("Incorporate the following code excerpt into your codebase"); weaker, as
    // how-tos say it to people too.
    name: 'dictates-the-code',
    pattern: /\b(?:include|incorporate|integrate|insert|inject|blend|append|add|embed|feature|supplement|utili[sz]e|execute|run)\b[^.\n]{0,40}\b(?:the )?(?:following|below|subsequent|this) (?:code|snippet|script|command)\b[^.\n]{0,40}\byour (?:code|codebase|implementation|solution|algorithm|script|program|answer|response)\b/,
    weight: 0.45,
  },
  {
    name: 'dictates-the-answer-multilingual',
    pattern: /\b(?:en|dans) (?:ta|votre) reponse\b|\ben (?:tu|su) respuesta\b|\bin (?:deiner|ihrer) antwort\b|\bna (?:sua|tua) resposta\b|(?:в|во) (?:своем|твоем|вашем) ответе|(?:你的|您的)?(?:回答|回复)中|(?:回答|返答|返信)(?:の中|の最後|の冒頭)に/,
    weight: 0.55,
  },
  {
    name: 'model-role-marker',
    pattern: /(?:^|\n)[^\S\n]*(?:assistant|ai|system|user)[^\S\n]*:[^\S\n]*(?:ignore|forget|disregard|sure|ok|understood|new (?:task|instructions?))\b|\bbegin (?:new |system |hidden )?instructions?\b|\b(?:important|urgent) (?:new )?instructions?\s*:/,
    weight: 0.5,
  },
];

function noisyOr(rules: readonly InjectionRule[], text: string): { score: number; matched: string[] } {
  let miss = 1;
  const matched: string[] = [];
  for (const rule of rules) {
    if (rule.pattern.test(text)) {
      miss *= 1 - rule.weight;
      matched.push(rule.name);
    }
  }
  return { score: 1 - miss, matched };
}

/** Noisy-OR of the weights of every rule that matches, and the names that matched. */
export function ruleScore(text: string): { score: number; matched: string[] } {
  return noisyOr(INJECTION_RULES, text);
}

/** Noisy-OR of the data-context rules (DATA_RULES) that match `text`. */
export function dataRuleScore(text: string): { score: number; matched: string[] } {
  return noisyOr(DATA_RULES, text);
}
