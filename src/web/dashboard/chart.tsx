import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

// One bar chart for every analytics figure (recharts, no hand-drawn SVG), always shown with its table:
// the table is the chart's text for screen readers and for anyone reading exact numbers.

export interface BarSpec<T> {
  rows: T[];
  x: keyof T & string;
  y: keyof T & string;
  /** Names the bar in the tooltip. */
  label: string;
  format?: (v: number) => string;
  /** Bars across, labels down the side: for long category names (decline codes) on a phone. */
  horizontal?: boolean;
}

export function ChartWithTable<T>({ title, spec, table }: { title: string; spec: BarSpec<T>; table: ReactNode }) {
  return (
    <figure className="chart" aria-label={title}>
      <div className="chart-area" aria-hidden="true" data-testid={`chart-${title}`}>
        <ResponsiveContainer width="100%" height={spec.horizontal ? Math.max(120, 36 * spec.rows.length + 40) : 220}>
          {spec.horizontal ? (
            <BarChart data={spec.rows} layout="vertical" margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" horizontal={false} />
              <XAxis type="number" tick={{ fontSize: 12 }} tickFormatter={(v: number) => (spec.format ? spec.format(v) : String(v))} />
              <YAxis type="category" dataKey={spec.x as string} tick={{ fontSize: 12 }} width={120} interval={0} />
              <Tooltip formatter={(v) => (spec.format ? spec.format(Number(v)) : String(v))} />
              <Bar dataKey={spec.y as string} name={spec.label} fill="#2454c5" isAnimationActive={false} />
            </BarChart>
          ) : (
            <BarChart data={spec.rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey={spec.x as string} tick={{ fontSize: 12 }} interval={0} />
              <YAxis tick={{ fontSize: 12 }} width={56} tickFormatter={(v: number) => (spec.format ? spec.format(v) : String(v))} />
              <Tooltip formatter={(v) => (spec.format ? spec.format(Number(v)) : String(v))} />
              <Bar dataKey={spec.y as string} name={spec.label} fill="#2454c5" isAnimationActive={false} />
            </BarChart>
          )}
        </ResponsiveContainer>
      </div>
      <figcaption className="visually-hidden">{title}</figcaption>
      <div className="table-scroll">{table}</div>
    </figure>
  );
}
