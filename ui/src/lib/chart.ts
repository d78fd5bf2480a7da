// The symbol view's price chart on TradingView lightweight-charts: candles, a volume pane, the
// predicted closes as points, their 80% intervals as a shaded band (a series primitive: the
// library has no band series), and earnings announcements as markers.
import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type IPrimitivePaneRenderer,
  type IPrimitivePaneView,
  type ISeriesApi,
  type ISeriesPrimitive,
  LineSeries,
  type SeriesAttachedParameter,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { Bar, EarningsEvent, Prediction } from './types';

type DrawTarget = Parameters<IPrimitivePaneRenderer['draw']>[0];

const toTime = (iso: string): UTCTimestamp => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

interface BandPoint {
  time: UTCTimestamp;
  lower: number;
  upper: number;
}

/** The interval band: a polygon through the upper bounds, back along the lower ones. */
class IntervalBand implements ISeriesPrimitive<Time> {
  private points: BandPoint[] = [];
  private attachedTo: SeriesAttachedParameter<Time> | null = null;
  private readonly view: IPrimitivePaneView;

  constructor(
    private readonly fill: string,
    private readonly stroke: string,
    /** Told how many points were drawn, so tests (and people) can see the band is there. */
    private readonly onDraw: (points: number) => void,
  ) {
    const renderer: IPrimitivePaneRenderer = { draw: (target) => this.draw(target) };
    this.view = { zOrder: () => 'bottom', renderer: () => renderer };
  }

  attached(param: SeriesAttachedParameter<Time>): void {
    this.attachedTo = param;
  }

  detached(): void {
    this.attachedTo = null;
  }

  paneViews(): readonly IPrimitivePaneView[] {
    return [this.view];
  }

  setPoints(points: BandPoint[]): void {
    this.points = points;
    this.attachedTo?.requestUpdate();
  }

  private draw(target: DrawTarget): void {
    const a = this.attachedTo;
    if (!a) return;
    const xy: Array<[number, number, number]> = [];
    for (const p of this.points) {
      const x = a.chart.timeScale().timeToCoordinate(p.time);
      const hi = a.series.priceToCoordinate(p.upper);
      const lo = a.series.priceToCoordinate(p.lower);
      if (x !== null && hi !== null && lo !== null) xy.push([x, hi, lo]);
    }
    this.onDraw(xy.length);
    if (xy.length === 0) return;
    target.useBitmapCoordinateSpace(({ context: ctx, horizontalPixelRatio: hr, verticalPixelRatio: vr }) => {
      ctx.save();
      ctx.beginPath();
      // A lone point (one prediction) still shows: a short vertical bar.
      const half = xy.length === 1 ? 4 : 0;
      xy.forEach(([x, hi], i) => {
        if (i === 0) ctx.moveTo((x - half) * hr, hi * vr);
        else ctx.lineTo(x * hr, hi * vr);
      });
      if (half) ctx.lineTo((xy[0]![0] + half) * hr, xy[0]![1] * vr);
      for (let i = xy.length - 1; i >= 0; i--) {
        const [x, , lo] = xy[i]!;
        ctx.lineTo((x + (i === 0 ? half : 0)) * hr, lo * vr);
      }
      if (half) ctx.lineTo((xy[0]![0] - half) * hr, xy[0]![2] * vr);
      ctx.closePath();
      ctx.fillStyle = this.fill;
      ctx.fill();
      ctx.strokeStyle = this.stroke;
      ctx.lineWidth = vr;
      ctx.stroke();
      ctx.restore();
    });
  }
}

export interface PriceChart {
  setBars(bars: readonly Bar[]): void;
  updateBar(bar: Bar): void;
  /** Past predictions and the latest (target time = where the point and band sit). */
  setPredictions(predictions: readonly Prediction[]): void;
  setEarnings(events: readonly EarningsEvent[]): void;
  destroy(): void;
}

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function createPriceChart(host: HTMLElement): PriceChart {
  const text = css('--text', '#1b1f24');
  const border = css('--border', '#d9dee5');
  const up = css('--up', '#12805c');
  const down = css('--down', '#c23b3b');
  const accent = css('--accent', '#2f6fd1');
  const warn = css('--warn', '#a86b00');
  const chart: IChartApi = createChart(host, {
    autoSize: true,
    layout: { background: { color: 'transparent' }, textColor: text, attributionLogo: true },
    grid: { vertLines: { color: border }, horzLines: { color: border } },
    rightPriceScale: { borderColor: border },
    timeScale: { borderColor: border, rightOffset: 4 },
  });
  const candles: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
    upColor: up,
    downColor: down,
    wickUpColor: up,
    wickDownColor: down,
    borderVisible: false,
  });
  const volume = chart.addSeries(
    HistogramSeries,
    { priceFormat: { type: 'volume' }, color: border, priceLineVisible: false, lastValueVisible: false },
    1,
  );
  // The volume pane takes a quarter of the height.
  chart.panes()[1]?.setHeight(Math.max(60, Math.round(host.clientHeight * 0.22)));
  const predicted = chart.addSeries(LineSeries, {
    color: accent,
    lineVisible: false,
    pointMarkersVisible: true,
    pointMarkersRadius: 3,
    lastValueVisible: true,
    priceLineVisible: false,
    title: 'predicted',
  });
  const band = new IntervalBand(css('--band', 'rgba(47,111,209,0.16)'), accent, (n) => {
    host.dataset.bandPoints = String(n);
  });
  candles.attachPrimitive(band);
  const markers = createSeriesMarkers(candles, []);
  let barTimes: UTCTimestamp[] = [];
  let earnings: readonly EarningsEvent[] = [];

  const drawMarkers = () => {
    const first = barTimes[0];
    const list: SeriesMarker<Time>[] = [];
    if (first !== undefined) {
      let j = 0;
      for (const e of earnings) {
        const t = toTime(e.date);
        if (t < first) continue;
        // Markers sit on a bar: the announcement day's, or the next trading day's.
        while (j < barTimes.length && barTimes[j]! < t) j++;
        const at = barTimes[j];
        if (at === undefined) break;
        list.push({ time: at, position: 'aboveBar', shape: 'circle', color: warn, text: 'E', id: e.date });
      }
    }
    markers.setMarkers(list);
    host.dataset.earningsMarkers = String(list.length);
  };

  const candle = (b: Bar): CandlestickData<Time> => ({
    time: toTime(b.time),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
  });
  const vol = (b: Bar) => ({
    time: toTime(b.time),
    value: b.volume,
    color: b.close >= b.open ? `${up}66` : `${down}66`,
  });

  return {
    setBars(bars) {
      candles.setData(bars.map(candle));
      volume.setData(bars.map(vol));
      barTimes = bars.map((b) => toTime(b.time));
      chart.timeScale().fitContent();
    },
    updateBar(bar) {
      const t = toTime(bar.time);
      const last = barTimes[barTimes.length - 1];
      if (last !== undefined && t < last) return;
      candles.update(candle(bar));
      volume.update(vol(bar));
      if (last !== t) {
        barTimes.push(t);
        // A new bar can be the first on or after an announcement: its marker appears now.
        if (earnings.length > 0) drawMarkers();
      }
    },
    setPredictions(predictions) {
      // One point per target time: the newest prediction for it wins.
      const byTarget = new Map<number, Prediction>();
      for (const p of predictions) byTarget.set(toTime(p.targetTime), p);
      const sorted = [...byTarget.entries()].sort((a, b) => a[0] - b[0]);
      predicted.setData(sorted.map(([t, p]) => ({ time: t as UTCTimestamp, value: p.predictedClose })));
      band.setPoints(
        sorted.map(([t, p]) => ({ time: t as UTCTimestamp, lower: p.interval.lower, upper: p.interval.upper })),
      );
    },
    setEarnings(events) {
      earnings = [...events].sort((a, b) => (a.date < b.date ? -1 : 1));
      drawMarkers();
    },
    destroy() {
      chart.remove();
    },
  };
}
