// @vitest-environment happy-dom
// The symbol view's price chart on lightweight-charts, in happy-dom: the page has no layout and
// no canvas of its own, so the test gives it a fixed-size box (ResizeObserver) and a 2D context
// that records what is drawn. What the chart's own code does is checked through what it tells
// the page (data-band-points, data-earnings-markers) and through the band's drawing calls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPriceChart, type PriceChart } from './chart';
import type { Bar, EarningsEvent, Prediction } from './types';

const WIDTH = 800;
const HEIGHT = 400;

/** Canvas calls, in order: [method, ...args]. */
let calls: unknown[][] = [];

/** A 2D context that draws nothing and records every call (measureText answers a plausible width). */
function recordingContext(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const state: Record<string | symbol, unknown> = { canvas };
  return new Proxy(state, {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (prop === 'measureText') {
        return (text: string) => ({ width: text.length * 6, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 });
      }
      if (prop === 'createLinearGradient' || prop === 'createRadialGradient') return () => ({ addColorStop() {} });
      if (prop === 'getTransform') return () => ({ a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 });
      if (prop === 'getLineDash') return () => [];
      return (...args: unknown[]) => {
        calls.push([prop, ...args]);
      };
    },
    set(target, prop, value) {
      target[prop] = value;
      calls.push([`set ${String(prop)}`, value]);
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
}

/** A box of WIDTH × HEIGHT for every observed element (happy-dom has no layout). */
class FixedSizeObserver {
  constructor(private readonly callback: ResizeObserverCallback) {}
  observe(target: Element) {
    const entry = {
      target,
      contentRect: { width: WIDTH, height: HEIGHT, x: 0, y: 0, top: 0, left: 0, right: WIDTH, bottom: HEIGHT },
      borderBoxSize: [{ inlineSize: WIDTH, blockSize: HEIGHT }],
      contentBoxSize: [{ inlineSize: WIDTH, blockSize: HEIGHT }],
      devicePixelContentBoxSize: [{ inlineSize: WIDTH, blockSize: HEIGHT }],
    };
    queueMicrotask(() => this.callback([entry as unknown as ResizeObserverEntry], this as unknown as ResizeObserver));
  }
  unobserve() {}
  disconnect() {}
}

/** The browser's colour normalisation, which the library relies on: rgb()/rgba() from any hex. */
function rgb(color: string): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (!hex) return color.trim() === 'transparent' ? 'rgba(0, 0, 0, 0)' : color;
  const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(hex[1]!.slice(i, i + 2), 16));
  return hex[2] === undefined
    ? `rgb(${r}, ${g}, ${b})`
    : `rgba(${r}, ${g}, ${b}, ${Number.parseInt(hex[2], 16) / 255})`;
}

function normalisedStyles(): void {
  const real = window.getComputedStyle.bind(window);
  vi.spyOn(window, 'getComputedStyle').mockImplementation((el: Element) => {
    const style = real(el);
    return new Proxy(style, {
      get(target, prop) {
        if (prop === 'color') return rgb(target.color || (el as HTMLElement).style.color);
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  });
}

const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString();
const bar = (i: number, close = 100 + i): Bar => ({
  time: day(i),
  open: close - 1,
  high: close + 2,
  low: close - 2,
  close,
  volume: 1_000_000 + i,
  source: 'replay',
});
const prediction = (targetDay: number, predictedClose: number, createdAt = day(targetDay - 1)): Prediction => ({
  id: `KO:${Date.parse(day(targetDay - 1))}:1`,
  symbol: 'KO',
  horizon: 1,
  inputTime: day(targetDay - 1),
  targetTime: day(targetDay),
  lastClose: 100,
  predictedClose,
  predictedReturn: 0,
  interval: { lower: predictedClose - 3, upper: predictedClose + 3, level: 0.8 },
  model: 'persistence',
  modelVersion: '1',
  regime: 'normal',
  createdAt,
  rankScore: null,
});
const earnings = (date: string): EarningsEvent => ({ date, epsEstimate: null, epsActual: null, surprisePct: null });

/** Resolves when the band has been drawn with `n` points (the chart paints on animation frames). */
function bandDrawn(host: HTMLElement, n: number): Promise<void> {
  return vi.waitFor(
    () => {
      expect(host.dataset.bandPoints).toBe(String(n));
    },
    { timeout: 5_000 },
  );
}

let host: HTMLElement;
let chart: PriceChart;

beforeEach(() => {
  calls = [];
  vi.stubGlobal('ResizeObserver', FixedSizeObserver);
  normalisedStyles();
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(function (this: HTMLCanvasElement) {
    return recordingContext(this);
  } as unknown as HTMLCanvasElement['getContext']);
  host = document.createElement('div');
  document.body.append(host);
  chart = createPriceChart(host);
});

afterEach(() => {
  chart.destroy();
  host.remove();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const BAND_FILL = 'rgba(47,111,209,0.16)';

type Point = [x: number, y: number];

/** The vertices of the band's last drawn polygon (bitmap pixels), from the recorded calls. */
function lastBand(fill = BAND_FILL): Point[] {
  let end = -1;
  for (let i = calls.length - 1; i >= 0 && end < 0; i--)
    if (calls[i]![0] === 'set fillStyle' && calls[i]![1] === fill) end = i;
  let start = end;
  while (start > 0 && calls[start]![0] !== 'beginPath') start--;
  return calls
    .slice(start, Math.max(end, 0))
    .filter((c) => c[0] === 'moveTo' || c[0] === 'lineTo')
    .map((c): Point => [c[1] as number, c[2] as number]);
}

/** Runs `change`, then waits for the band to be drawn again with `n` points. */
async function redraw(n: number, change: () => void): Promise<Point[]> {
  delete host.dataset.bandPoints;
  calls = [];
  change();
  await bandDrawn(host, n);
  return lastBand();
}

const bars = (days: readonly number[]) => days.map((i) => bar(i));

describe('the interval band', () => {
  it('is a polygon along the upper bounds, back along the lower ones, one point per target day', async () => {
    chart.setBars(bars(Array.from({ length: 30 }, (_, i) => i)));
    const band = await redraw(3, () =>
      chart.setPredictions([prediction(28, 127), prediction(29, 128), prediction(30, 131)]),
    );
    expect(band).toHaveLength(6);
    const [u0, u1, u2, l2, l1, l0] = band as [Point, Point, Point, Point, Point, Point];
    // Left to right along the top, right to left along the bottom, each x shared by its pair.
    expect(u0[0]).toBeLessThan(u1[0]);
    expect(u1[0]).toBeLessThan(u2[0]);
    expect([l2[0], l1[0], l0[0]]).toEqual([u2[0], u1[0], u0[0]]);
    // Screen y grows downwards: upper bounds above lower ones, and a higher interval higher up.
    for (const [u, l] of [
      [u0, l0],
      [u1, l1],
      [u2, l2],
    ] as const)
      expect(u[1]).toBeLessThan(l[1]);
    expect(u2[1]).toBeLessThan(u1[1]);
    // The band is filled and outlined.
    expect(calls.map((c) => c[0])).toEqual(expect.arrayContaining(['closePath', 'fill', 'stroke']));
  });

  it('keeps one prediction per target day: the last given (the views pass them oldest first)', async () => {
    chart.setBars(bars(Array.from({ length: 30 }, (_, i) => i)));
    const older = prediction(30, 131, day(28));
    const newer = prediction(30, 150, day(29));
    /** How far day 30's upper bound sits above day 29's, in heights of day 29's interval (6). */
    const rise = ([u29, u30, , l29]: Point[]) => (u29![1] - u30![1]) / (l29![1] - u29![1]);
    const newest = await redraw(2, () => chart.setPredictions([prediction(29, 128), older, newer]));
    expect(rise(newest)).toBeCloseTo((153 - 131) / 6, 1);
    const last = await redraw(2, () => chart.setPredictions([prediction(29, 128), newer, older]));
    expect(rise(last)).toBeCloseTo((134 - 131) / 6, 1);
  });

  it('shows a lone prediction as a short vertical bar', async () => {
    chart.setBars(bars(Array.from({ length: 30 }, (_, i) => i)));
    const band = await redraw(1, () => chart.setPredictions([prediction(30, 131)]));
    expect(band).toHaveLength(4);
    const [topLeft, topRight, bottomRight, bottomLeft] = band as [Point, Point, Point, Point];
    expect(topRight[0] - topLeft[0]).toBeGreaterThan(0);
    expect(topRight[1]).toBe(topLeft[1]);
    expect(bottomRight[0]).toBe(topRight[0]);
    expect(bottomLeft[0]).toBe(topLeft[0]);
    expect(bottomLeft[1]).toBeGreaterThan(topLeft[1]);
  });

  it('draws nothing without predictions', async () => {
    chart.setBars(bars(Array.from({ length: 30 }, (_, i) => i)));
    expect(await redraw(0, () => chart.setPredictions([]))).toEqual([]);
  });

  it('takes its colour from the page’s --band', async () => {
    chart.destroy();
    host.remove();
    document.documentElement.style.setProperty('--band', 'rgba(1, 2, 3, 0.5)');
    try {
      host = document.createElement('div');
      document.body.append(host);
      chart = createPriceChart(host);
      chart.setBars(bars(Array.from({ length: 30 }, (_, i) => i)));
      await redraw(1, () => chart.setPredictions([prediction(30, 131)]));
      expect(lastBand('rgba(1, 2, 3, 0.5)')).toHaveLength(4);
      expect(lastBand()).toEqual([]);
    } finally {
      document.documentElement.style.removeProperty('--band');
    }
  });
});

describe('earnings markers', () => {
  // Bars on even days only: an announcement on an odd day belongs to the next bar.
  const even = Array.from({ length: 15 }, (_, i) => 2 * i);

  it('sit on the announcement’s bar or the next one; none before the first bar or after the last', () => {
    chart.setBars(bars(even));
    chart.setEarnings([earnings(day(40)), earnings(day(5)), earnings(day(-3)), earnings(day(10).slice(0, 10))]);
    expect(host.dataset.earningsMarkers).toBe('2');
    chart.setEarnings([]);
    expect(host.dataset.earningsMarkers).toBe('0');
  });

  it('appear when a new bar reaches an announcement', () => {
    chart.setBars(bars(even)); // the last bar is day 28
    chart.setEarnings([earnings(day(5)), earnings(day(29))]);
    expect(host.dataset.earningsMarkers).toBe('1');
    chart.updateBar(bar(28, 200)); // the last bar again, updated: no new bar
    expect(host.dataset.earningsMarkers).toBe('1');
    chart.updateBar(bar(30));
    expect(host.dataset.earningsMarkers).toBe('2');
  });

  it('are none before any bar', () => {
    chart.setEarnings([earnings(day(1))]);
    expect(host.dataset.earningsMarkers).toBe('0');
  });
});

describe('live bars', () => {
  it('ignore a bar older than the last one (the library would throw)', () => {
    chart.setBars(bars([0, 1, 2, 3]));
    expect(() => chart.updateBar(bar(1, 50))).not.toThrow();
    expect(() => chart.updateBar(bar(4))).not.toThrow();
  });

  it('start a chart that had none', () => {
    expect(() => chart.updateBar(bar(0))).not.toThrow();
    chart.setEarnings([earnings(day(0))]);
    expect(host.dataset.earningsMarkers).toBe('1');
  });
});

describe('destroy', () => {
  it('takes the chart out of the page', () => {
    expect(host.querySelector('canvas')).not.toBeNull();
    chart.destroy();
    expect(host.querySelector('canvas')).toBeNull();
    chart = { destroy() {} } as PriceChart; // afterEach destroys again
  });
});
