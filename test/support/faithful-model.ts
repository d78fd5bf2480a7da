// What a chat model that follows tickcast's explanation prompt (explain/prompt.ts) writes, for
// the Ollama protocol TEST DOUBLE to reply with: numbers copied from the prompt's facts, each
// cited. Tests and benchmarks of the Ollama path script their "model" with these.
import type { OllamaDoubleRequest } from './ollama-test-double.js';

/** The fact line `F3 (label): value` of the prompt whose label starts with `label`. */
export function promptFact(r: OllamaDoubleRequest, label: string): { ref: string; value: string } {
  const prompt = r.messages.at(-1)?.content ?? '';
  const m = new RegExp(`^(F\\d+) \\(${label}[^)]*\\): (.+)$`, 'm').exec(prompt);
  if (!m) throw new Error(`no fact "${label}" in the prompt:\n${prompt}`);
  return { ref: m[1]!, value: m[2]! };
}

/** A grounded explanation: the predicted change in its direction and the last close, cited. */
export function faithfulExplanation(r: OllamaDoubleRequest, subject = 'the stock'): string {
  const change = promptFact(r, 'predicted change');
  const close = promptFact(r, 'last close');
  const dir = change.value.startsWith('-') ? 'fall' : 'rise';
  return (
    `The model expects ${subject} to ${dir} ${change.value.replace('-', '')} [${change.ref}] from its last close of ${close.value} [${close.ref}]. ` +
    'Its track record suggests caution.'
  );
}
