import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReplayClock, definePipeline, type ReplayClock, TestDriver } from '../../engine/index.js';
import { type News, schemas } from '../../schemas/index.js';
import { news } from './news.js';
import { endOfNewYorkDay, newYorkOffsetMinutes } from './news-formats.js';
import { replay } from './replay.js';

const NEWS = new URL('../../data/news', import.meta.url).pathname;
const PRICES = new URL('../../data/sp500-daily', import.meta.url).pathname;
const SHARED_NEWS = new URL('../../../shared/data/news', import.meta.url).pathname;
const FINVIZ = 'finviz_headlines_2016_texas-ucf.csv';
const REUTERS = 'reuters_headlines_2015-2017_kanwu10.csv';
const BENZINGA = 'benzinga_analyst_ratings_processed_first10k_sample.csv';

/** A folder holding the given files (text is written as UTF-8, a Buffer byte for byte). */
function folder(files: { [name: string]: string | Buffer }): string {
  const dir = mkdtempSync(join(tmpdir(), 'news-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Dead letters of the news topic, by reason with `FILE:LINE: ` and numbers left out (as the CLI groups them). */
function reasonCounts(d: TestDriver): { [reason: string]: number } {
  const counts: { [reason: string]: number } = {};
  for (const l of d.deadLetters('news')) {
    const reason = l.reason
      .replace(/^[^:]+:\d+: /, '')
      .replace(/^duplicate headline: .*/, 'duplicate headline')
      .replace(/"[^"]*"/g, '"…"');
    counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}

describe('news', () => {
  it('reads the three bundled real headline sets, stamped without look-ahead, oldest first', async () => {
    const d = await TestDriver.forOperator(news({ dir: NEWS }));
    await d.runSource();
    const all = d.read<News>('news');
    expect(all).toHaveLength(300 + 4844 + 5810);
    expect(all.every((n, i) => i === 0 || all[i - 1]!.ts <= n.ts)).toBe(true);
    const byId = new Map(all.map((n) => [n.id, n]));

    // finviz line 402: `2016-12-05,bmw confident spite new threat u technology rival,AAPL`
    // A date only: the end of that day in New York (EST, UTC-5).
    const finviz = all.find(
      (n) => n.source === 'finviz' && n.headline === 'bmw confident spite new threat u technology rival',
    );
    expect(finviz).toEqual({
      // sha256("bmw confident spite new threat u technology rival") starts 509d1eeaca54.
      id: 'finviz:AAPL:2016-12-05:509d1eeaca54',
      symbol: 'AAPL',
      ts: Date.UTC(2016, 11, 6, 4, 59, 59, 999),
      headline: 'bmw confident spite new threat u technology rival',
      source: 'finviz',
      url: null,
      body: null,
      precision: 'day',
    });

    // reuters line 2413 (latin-1 bytes 0xDB 0xAA are "Ûª", the source's own mojibake for ’).
    const reuters = all.find((n) => n.source === 'reuters' && n.headline === 'Qualcomm profit sinks nearly 90 pct');
    expect(reuters).toMatchObject({
      symbol: 'AAPL',
      ts: Date.UTC(2017, 10, 2, 3, 59, 59, 999), // 2017-11-01 23:59:59.999 EDT (UTC-4)
      precision: 'day',
      body: 'Nov 1 Smartphone chipmaker Qualcomm Inc reported a 89.5 percent slump in quarterly profit on Wednesday as the company\u00db\u00aas ongoing patent battle with Apple Inc hurt both its licensing and chips business.',
    });
    expect(reuters!.id).toMatch(/^reuters:AAPL:2017-11-01:[0-9a-f]{12}$/);

    // benzinga lines 36 and 69: the instant, with its UTC offset honoured (EDT, then EST).
    const pound = all.find((n) => n.headline === 'Agilent Reports Purchase Of Cobalt Light Systems For £40M In Cash');
    expect(pound).toMatchObject({
      symbol: 'A',
      ts: Date.UTC(2017, 6, 7, 12, 35),
      precision: 'minute',
      source: 'benzinga',
    });
    const euro = all.find((n) => n.headline === 'Agilent to Buy Multiplicom for €68M in Cash');
    expect(euro).toMatchObject({ ts: Date.UTC(2016, 11, 20, 21, 6), precision: 'minute' });
    expect(byId.get(euro!.id)).toBe(euro);

    // Every id is unique; the repeats of a headline are dead letters, as are 6 Reuters rows
    // holding a DEL (0x7F) where the crawl lost a quote mark.
    expect(byId.size).toBe(all.length);
    expect(reasonCounts(d)).toEqual({
      'duplicate headline': 56 + 828,
      'holds control character U+007F (wrong encoding?)': 6,
    });
    expect(all.every((n) => schemas.News.validate(n).length === 0)).toBe(true);
  });

  it.runIf(existsSync(SHARED_NEWS))('reads the full shared files (../shared/data/news)', async () => {
    const d = await TestDriver.forOperator(news({ dir: SHARED_NEWS }));
    await d.runSource();
    const bySource: { [source: string]: number } = {};
    for (const n of d.read<News>('news')) bySource[n.source] = (bySource[n.source] ?? 0) + 1;
    // Rows read: benzinga 6,659 (3 of them span two lines), finviz 40,587, reuters 8,590.
    expect(bySource).toEqual({ benzinga: 6659 - 97, finviz: 40587 - 330, reuters: 8590 - 8 - 1152 });
    expect(reasonCounts(d)).toEqual({
      'duplicate headline': 97 + 330 + 1152,
      'holds control character U+007F (wrong encoding?)': 8,
    });
    // Reuters lists each Alphabet story under GOOG and GOOGL: two symbols, two records.
    const alphabet = d
      .read<News>('news')
      .filter((n) => n.headline === "Google close to buying smartphone maker HTC's assets: Bloomberg");
    expect(alphabet.map((n) => n.symbol).sort()).toEqual(['GOOG', 'GOOGL']);
  });

  it('stamps a date-only headline at 23:59:59.999 in New York, on either side of a DST change', async () => {
    const dir = folder({
      'dst.csv': [
        'date,text,ticker',
        '2016-03-11,friday before dst start,AAPL', // EST: UTC-5
        '2016-03-14,monday after dst start,AAPL', // EDT: UTC-4
        '2016-11-04,friday before dst end,AAPL', // EDT
        '2016-11-07,monday after dst end,AAPL', // EST
      ].join('\n'),
    });
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    expect(d.read<News>('news').map((n) => [n.headline, new Date(n.ts).toISOString(), n.precision])).toEqual([
      ['friday before dst start', '2016-03-12T04:59:59.999Z', 'day'],
      ['monday after dst start', '2016-03-15T03:59:59.999Z', 'day'],
      ['friday before dst end', '2016-11-05T03:59:59.999Z', 'day'],
      ['monday after dst end', '2016-11-08T04:59:59.999Z', 'day'],
    ]);
  });

  it('computes the New York day end as the US DST rules say, for every day of 2007–2018', () => {
    // Second implementation: since 2007, EDT from the second Sunday of March to the first Sunday of November.
    const nthSunday = (y: number, month: number, n: number) => {
      const first = new Date(Date.UTC(y, month, 1)).getUTCDay();
      return 1 + ((7 - first) % 7) + 7 * (n - 1);
    };
    for (let t = Date.UTC(2007, 0, 1); t <= Date.UTC(2018, 11, 31); t += 86_400_000) {
      const day = new Date(t);
      const [y, m, dd] = [day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()];
      const afterStart = m > 2 || (m === 2 && dd >= nthSunday(y, 2, 2));
      const beforeEnd = m < 10 || (m === 10 && dd < nthSunday(y, 10, 1));
      const offsetHours = afterStart && beforeEnd ? 4 : 5;
      const iso = day.toISOString().slice(0, 10);
      expect(endOfNewYorkDay(iso), iso).toBe(t + 86_400_000 - 1 + offsetHours * 3_600_000);
    }
    expect(newYorkOffsetMinutes(Date.UTC(2016, 6, 1))).toBe(-240);
    expect(newYorkOffsetMinutes(Date.UTC(2016, 0, 1))).toBe(-300);
  });

  it('sends each bad row to news.dlq with file, line and reason, and reads the rest of the file', async () => {
    const dir = folder({
      'finviz.csv': Buffer.concat([
        Buffer.from(
          [
            'date,text,ticker',
            '2016-03-01,apple unveil new ipad,AAPL',
            '2016-03-01,too few fields',
            '2016-03-02,,AAPL',
            '2016-02-30,impossible day,AAPL',
            '2016-03-02,lowercase ticker,aapl',
            '2016-03-02,"a stray quote mid-file,MSFT',
            '2016-03-03,microsoft buy linkedin,MSFT',
            '2016-3-4,short date,MSFT',
            '2016-03-04,bytes that are not utf-8: ',
          ].join('\n'),
        ),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(',MSFT\n2016-03-04,the last row is read too,MSFT\n'),
      ]),
      'notes.csv': 'headline,when\nsomething,today\n',
    });
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    expect(d.read<News>('news').map((n) => `${n.symbol} ${n.headline}`)).toEqual([
      'AAPL apple unveil new ipad',
      'MSFT microsoft buy linkedin',
      'MSFT the last row is read too',
    ]);
    expect(d.deadLetters('news').map((l) => l.reason)).toEqual([
      'finviz.csv:3: has 2 fields, expected 3 (date,text,ticker)',
      'finviz.csv:4: headline is empty',
      'finviz.csv:5: date "2016-02-30" is not a calendar day',
      'finviz.csv:6: ticker "aapl" is not a ticker (A-Z, digits, . ^ = -)',
      'finviz.csv:7: has a quote that is never closed',
      'finviz.csv:9: date "2016-3-4" is not YYYY-MM-DD',
      'finviz.csv:10: is not valid UTF-8',
      'notes.csv:1: unknown header "headline,when": expected one of finviz "date,text,ticker", reuters "ticker name,Company name,date,title,Content,", benzinga ",title,date,stock"',
    ]);
    expect(d.deadLetters('news')[4]!.payload.toString()).toBe('2016-03-02,"a stray quote mid-file,MSFT');
    expect(d.deadLetters('news').every((l) => l.kind === 'source' && l.node === 'news')).toBe(true);
  });

  it('a folder named X.csv among the headline files is one dead letter; the other files are read', async () => {
    const dir = folder({ 'finviz.csv': 'date,text,ticker\n2016-03-01,apple unveil new ipad,AAPL\n' });
    mkdirSync(join(dir, 'archive.csv'));
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    expect(d.read<News>('news').map((n) => n.headline)).toEqual(['apple unveil new ipad']);
    expect(d.deadLetters('news').map((l) => l.reason)).toEqual(['archive.csv:1: is a directory, not a file (EISDIR)']);
  });

  it('reads Benzinga instants with their offset, and a quoted headline that spans two lines', async () => {
    const dir = folder({
      'benzinga.csv': [
        ',title,date,stock',
        '1,"Agilent Beats, Raises",2016-05-12 08:41:00-04:00,A',
        '2,"Citi Downgrades AmerisourceBergen to Hold, Slashes PT to $40', // as in the real file
        '",2011-07-29 08:59:00-04:00,ABC',
        '3,No offset,2016-05-13 09:00:00,A',
        '4,Hour 25,2016-05-13 25:00:00-04:00,A',
        '5,Winter,2016-01-13 09:00:00-05:00,A',
      ].join('\n'),
    });
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    expect(d.read<News>('news').map((n) => [n.id.replace(/:[0-9a-f]{12}$/, ''), n.headline, n.ts])).toEqual([
      [
        'benzinga:ABC:2011-07-29',
        'Citi Downgrades AmerisourceBergen to Hold, Slashes PT to $40',
        Date.UTC(2011, 6, 29, 12, 59),
      ],
      ['benzinga:A:2016-01-13', 'Winter', Date.UTC(2016, 0, 13, 14)],
      ['benzinga:A:2016-05-12', 'Agilent Beats, Raises', Date.UTC(2016, 4, 12, 12, 41)],
    ]);
    expect(d.deadLetters('news').map((l) => l.reason)).toEqual([
      'benzinga.csv:5: date "2016-05-13 09:00:00" is not YYYY-MM-DD HH:MM[:SS]±HH:MM',
      'benzinga.csv:6: date "2016-05-13 25:00:00-04:00" is not a valid time',
    ]);
  });

  it('decodes a Reuters file as latin-1, and keeps a story listed under two symbols twice', async () => {
    // Real lines of the Reuters set (GOOG and GOOGL, 2017-09-20), with their latin-1 bytes 0xE5 0xCA.
    const story = (symbol: string) =>
      Buffer.from(
        `${symbol},Alphabet Inc,20170920,Google close to buying smartphone maker HTC's assets: Bloomberg ,Alphabet Inc's  Google is close to acquiring assets of Taiwanese smartphone maker HTC Corp   Bloomberg reported  citing a person\xe5\xcafamiliar\xe5\xcawith the matter.,normal\r\n`,
        'latin1',
      );
    const dir = folder({
      'reuters.csv': Buffer.concat([
        Buffer.from('ticker name,Company name,date,title,Content,\r\n'),
        story('GOOG'),
        story('GOOGL'),
        Buffer.from('AAPL,Apple Inc,20170231,An impossible day,Lead.,normal\r\n'),
        story('GOOG'), // the same row again
      ]),
    });
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    const out = d.read<News>('news');
    expect(out.map((n) => n.symbol)).toEqual(['GOOG', 'GOOGL']);
    expect(out[0]!.headline).toBe("Google close to buying smartphone maker HTC's assets: Bloomberg");
    expect(out[0]!.body).toMatch(/citing a personåÊfamiliaråÊwith the matter\.$/);
    expect(out[0]!.ts).toBe(Date.UTC(2017, 8, 21, 3, 59, 59, 999));
    expect(d.deadLetters('news').map((l) => l.reason)).toEqual([
      'reuters.csv:4: date "20170231" is not a calendar day',
      `reuters.csv:5: duplicate headline: ${out[0]!.id} was read at reuters.csv:2 (that one is emitted)`,
    ]);
  });

  it('emits the same headline once: a repeat (same source, symbol, day and headline) goes to news.dlq', async () => {
    const dir = folder({
      'a.csv': 'date,text,ticker\n2016-03-01,apple unveil new ipad,AAPL\n2016-03-02,apple unveil new ipad,AAPL\n',
      // Case and spacing do not make a headline new; another symbol does.
      'b.csv': 'date,text,ticker\n2016-03-01,Apple  unveil new iPad ,AAPL\n2016-03-01,apple unveil new ipad,MSFT\n',
    });
    const d = await TestDriver.forOperator(news({ dir }));
    await d.runSource();
    expect(d.read<News>('news').map((n) => n.id.replace(/[0-9a-f]{12}$/, '…'))).toEqual([
      'finviz:AAPL:2016-03-01:…',
      'finviz:MSFT:2016-03-01:…',
      'finviz:AAPL:2016-03-02:…',
    ]);
    const id = d.read<News>('news')[0]!.id;
    expect(d.deadLetters('news').map((l) => l.reason)).toEqual([
      `b.csv:2: duplicate headline: ${id} was read at a.csv:2 (that one is emitted)`,
    ]);
    expect(d.deadLetters('news')[0]!.payload.toString()).toBe('2016-03-01,Apple  unveil new iPad ,AAPL');
  });

  it('keeps only the given symbols and days, from a list of files', async () => {
    const d = await TestDriver.forOperator(
      news({
        files: [join(NEWS, REUTERS), join(NEWS, FINVIZ), join(NEWS, BENZINGA)],
        symbols: ['MSFT', 'A'],
        from: Date.UTC(2016, 11, 1),
        to: Date.UTC(2016, 11, 31),
      }),
    );
    await d.runSource();
    const out = d.read<News>('news');
    expect(new Set(out.map((n) => n.symbol))).toEqual(new Set(['MSFT', 'A']));
    expect(new Set(out.map((n) => n.source))).toEqual(new Set(['reuters', 'finviz', 'benzinga']));
    expect(out.every((n) => n.id.split(':')[2]!.startsWith('2016-12'))).toBe(true);
  });

  it('with a clock, emits a headline only once the replay has passed its time', async () => {
    const dir = folder({
      'finviz.csv':
        'date,text,ticker\n2018-02-01,thursday news,AAPL\n2018-02-02,friday news,AAPL\n2018-02-05,monday news,AAPL\n',
      'benzinga.csv': ',title,date,stock\n1,Friday morning news,2018-02-02 09:30:00-05:00,AAPL\n',
    });
    const { clock, nextWait } = observed(createReplayClock());
    const d = await TestDriver.forOperator(news({ dir, clock }));
    const headlines = () => d.read<News>('news').map((n) => n.headline);

    let waiting = nextWait();
    const running = d.runSource();
    // Nothing is known before the replay starts: the source waits for Thursday's end in New York.
    expect(await waiting).toBe(Date.UTC(2018, 1, 2, 4, 59, 59, 999));
    expect(headlines()).toEqual([]);

    // The replay has done Thursday and Friday (it advances to the end of each UTC day).
    waiting = nextWait();
    clock.advance(Date.UTC(2018, 1, 3));
    expect(await waiting).toBe(Date.UTC(2018, 1, 3, 4, 59, 59, 999)); // Friday's end in New York
    expect(headlines()).toEqual(['thursday news', 'Friday morning news']);

    // Then Monday: Friday's dated news is out; Monday's waits for Monday evening to pass.
    waiting = nextWait();
    clock.advance(Date.UTC(2018, 1, 6));
    expect(await waiting).toBe(Date.UTC(2018, 1, 6, 4, 59, 59, 999));
    expect(headlines()).toEqual(['thursday news', 'Friday morning news', 'friday news']);

    clock.end(); // the replay is over: the rest at full speed
    await running;
    expect(headlines()).toEqual(['thursday news', 'Friday morning news', 'friday news', 'monday news']);
  });

  it('runs beside the price replay: no headline is out before the replay reaches its time', async () => {
    const from = Date.UTC(2017, 9, 30);
    const to = Date.UTC(2017, 10, 10);
    const { clock, nextWait } = observed(createReplayClock());
    const pipeline = definePipeline({
      name: 'news-beside-replay',
      topics: { quotes: { schema: schemas.Quote, partitions: 1 }, news: { schema: schemas.News, partitions: 1 } },
      nodes: [
        {
          id: 'replay',
          operator: replay({ dir: PRICES, symbols: ['AAPL'], from, to, clock }),
          writes: { quotes: 'quotes' },
        },
        { id: 'news', operator: news({ dir: NEWS, symbols: ['AAPL'], from, to, clock }), writes: { news: 'news' } },
      ],
    });
    const d = await TestDriver.create(pipeline);
    // Each time the replay advances the clock, the news already out are older than its previous time.
    const seen: Array<{ before: number; newest: number; count: number }> = [];
    const advance = clock.advance;
    clock.advance = (time) => {
      const out = d.read<News>('news');
      seen.push({ before: clock.now, newest: out.at(-1)?.ts ?? Number.NEGATIVE_INFINITY, count: out.length });
      advance(time);
    };
    // The news source has read its files and waits for the replay (as at start-up, where
    // the replay reads more files), then the replay runs.
    const waiting = nextWait();
    const newsDone = d.runSource('news');
    await waiting;
    await Promise.all([d.runSource('replay'), newsDone]);
    expect(d.read('quotes')).toHaveLength(10); // trading days 2017-10-30 … 2017-11-10
    expect(seen).toHaveLength(10);
    expect(seen.every(({ before, newest }) => newest <= before)).toBe(true);
    // Reuters has 76 distinct AAPL headlines dated 2017-10-30 … 2017-11-10 (Finviz ends in 2016).
    expect(d.read<News>('news').map((n) => n.source)).toEqual(Array(76).fill('reuters'));
  });

  it('stops waiting for the clock when the pipeline stops', async () => {
    const dir = folder({ 'f.csv': 'date,text,ticker\n2018-02-01,never reached,AAPL\n' });
    const { clock, nextWait } = observed(createReplayClock());
    const d = await TestDriver.forOperator(news({ dir, clock }));
    const stop = new AbortController();
    const waiting = nextWait();
    const running = d.runSource(undefined, { signal: stop.signal });
    await waiting;
    stop.abort();
    await running;
    expect(d.read('news')).toEqual([]);
  });
});

/** A clock that also tells when the source starts waiting on it. */
function observed(inner: ReplayClock): { clock: ReplayClock; nextWait: () => Promise<number> } {
  let notify: ((time: number) => void) | null = null;
  const clock: ReplayClock = {
    get now() {
      return inner.now;
    },
    advance: (time) => inner.advance(time),
    end: () => inner.end(),
    until(time, signal) {
      const p = inner.until(time, signal);
      notify?.(time);
      return p;
    },
  };
  const nextWait = () =>
    new Promise<number>((resolve) => {
      notify = (time) => {
        notify = null;
        resolve(time);
      };
    });
  return { clock, nextWait };
}
