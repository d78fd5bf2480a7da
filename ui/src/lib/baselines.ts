// The shipped model against the best baseline on validation (from the `model` query): one
// sentence for the Model view, and what to say when the artifacts predate the baselines beside
// persistence (constantDrift, always-up), so an old artifact reads as "not recorded", not as 0.

export interface Selection {
  model: string;
  maeRatio: number;
  skillVsBest: number | null;
}

export interface VersusBest {
  /** 'ahead': MAE below the best baseline's; 'behind': not; 'unknown': not recorded. */
  tone: 'ahead' | 'behind' | 'unknown';
  text: string;
}

/** `shipped` (its name) against `bestBaseline` from the selection figures of `tickcast train`. */
export function versusBest(shipped: string, bestBaseline: string | null, selection: readonly Selection[]): VersusBest {
  const skill = selection.find((s) => s.model === shipped)?.skillVsBest ?? null;
  if (bestBaseline === null || skill === null) {
    return {
      tone: 'unknown',
      text: 'Not recorded: these artifacts were trained before constantDrift and the best baseline were scored (retrain with npx tickcast train, or run npx tickcast evaluate).',
    };
  }
  if (shipped === bestBaseline)
    return { tone: 'behind', text: `The shipped model is the best baseline, ${bestBaseline}.` };
  return skill < 1
    ? {
        tone: 'ahead',
        text: `MAE ÷ best baseline (${bestBaseline}) ${skill.toFixed(4)}: beats every baseline on validation normal days.`,
      }
    : {
        tone: 'behind',
        text: `MAE ÷ best baseline (${bestBaseline}) ${skill.toFixed(4)}: no better than ${bestBaseline} on validation normal days.`,
      };
}

/** "1.0012 (constantDrift)", or "—" when the artifact has no such figure. */
export const fmtSkill = (skill: number | null, best: string | null): string =>
  skill === null ? '—' : `${skill.toFixed(3)}${best ? ` (${best})` : ''}`;
