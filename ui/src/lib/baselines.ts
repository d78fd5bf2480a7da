// The shipped model against the best baseline on validation (from the `model` query): one
// sentence for the Model view, and what to say when the artifacts predate the baselines beside
// persistence (constantDrift, always-up), so an old artifact reads as "not recorded", not as 0.
import { fmtPct } from './format';

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

/** Which median ships at one horizon (the `points` of the `model` query). */
export interface PointForecast {
  horizon: number;
  point: string;
  value: number | null;
  skillVsBest: number | null;
  skillT: number | null;
  skillDates: number;
  bestBaseline: string;
}

/**
 * "point forecast at h5: constant drift +0.30% (the net had no skill: MAE ÷ best 1.009)". The value is
 * a log return, shown as the % change it means. A net whose MAE was lower, but not clearly (t of the
 * daily difference above −2, or over fewer than 20 dates), "had no clear skill".
 */
export function pointLine(p: PointForecast): string {
  const skill = p.skillVsBest === null ? '—' : p.skillVsBest.toFixed(3);
  const t = p.skillT === null ? '' : `, t ${p.skillT.toFixed(1)} over ${p.skillDates} dates`;
  const at = `point forecast at h${p.horizon}`;
  if (p.point === 'net') return `${at}: the net's median (MAE ÷ best baseline ${skill}${t}, ${p.bestBaseline})`;
  const what =
    p.point === 'persistence'
      ? 'persistence, no change'
      : `constant drift ${fmtPct(p.value === null ? null : Math.expm1(p.value) * 100)}`;
  const verdict = p.skillVsBest !== null && p.skillVsBest < 1 ? 'no clear skill' : 'no skill';
  return `${at}: ${what} (the net had ${verdict}: MAE ÷ best ${skill}${t})`;
}
