import type { FC } from "hono/jsx";

/** One bar: stacked segments (each a share of the scale) and the number printed beside it. */
export interface BarRow {
  label: string;
  segments: Array<{ value: number; tone: "default" | "ok" | "bad" }>;
  /** What is printed beside the bar (also used in the text alternative). */
  display: string;
}

export interface BarChartProps {
  id: string;
  title: string;
  /** One-sentence summary read by screen readers as the chart's description. */
  summary: string;
  rows: BarRow[];
  /** Value of a full-length bar; defaults to the largest row total. */
  scale?: number;
  /** Column headers of the data table that follows the chart (`[bucket, value]`). */
  tableHeaders: [string, string];
  /** What each bar colour means (decorative: the text alternative already says it). */
  legend?: Array<{ label: string; tone: "default" | "ok" | "bad" }>;
}

const ROW_HEIGHT = 20;
const BAR_HEIGHT = 13;
/** Bars start after the bucket label column and leave the right part for the numbers (percent of width). */
const BAR_START = 16;
const BAR_SPAN = 54;

const pct = (n: number) => `${Math.max(0, Math.round(n * 1000) / 1000)}%`;

/**
 * Horizontal bars, one per time bucket, drawn as inline SVG (no script, no image request). Positions
 * are percentages of the chart's width and text keeps its pixel size, so the same chart reads on a
 * phone and a laptop. The SVG is an `img` with a title and summary; the exact numbers are also in a
 * data table right after it.
 */
export const BarChart: FC<BarChartProps> = ({ id, title, summary, rows, scale, tableHeaders, legend }) => {
  const max = scale ?? Math.max(1, ...rows.map((row) => row.segments.reduce((sum, s) => sum + s.value, 0)));
  const height = rows.length * ROW_HEIGHT + 4;
  return (
    <figure class="chart-figure">
      <svg
        class="chart"
        width="100%"
        height={height}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {rows.map((row, i) => {
          const y = i * ROW_HEIGHT + 2;
          let offset = BAR_START;
          return (
            <g>
              <text x="0" y={y + BAR_HEIGHT - 2} class="axis-label">
                {row.label}
              </text>
              <rect class="track" x={pct(BAR_START)} y={y} width={pct(BAR_SPAN)} height={BAR_HEIGHT} rx="2" />
              {row.segments.map((segment) => {
                const width = (segment.value / max) * BAR_SPAN;
                const x = offset;
                offset += width;
                return width > 0 ? (
                  <rect class={segment.tone === "default" ? "bar" : `bar bar--${segment.tone}`} x={pct(x)} y={y} width={pct(width)} height={BAR_HEIGHT} rx="2" />
                ) : null;
              })}
              <text x="100%" y={y + BAR_HEIGHT - 2} text-anchor="end">
                {row.display}
              </text>
            </g>
          );
        })}
      </svg>
      {legend ? (
        <ul class="legend" aria-hidden="true">
          {legend.map((entry) => (
            <li>
              <span class={entry.tone === "default" ? "swatch" : `swatch swatch--${entry.tone}`} />
              {entry.label}
            </li>
          ))}
        </ul>
      ) : null}
      <details>
        <summary>
          {title}: data table
        </summary>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{tableHeaders[0]}</th>
                <th scope="col" class="num">
                  {tableHeaders[1]}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr>
                  <th scope="row">{row.label}</th>
                  <td class="num">{row.display}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
};
