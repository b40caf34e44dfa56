/** The performance report: data, then text, JSON or one self-contained HTML file. */
import type { PerformanceReport } from './data.js';
import { renderHtml } from './html.js';
import { renderText } from './text.js';

export { buildReport, type PerformanceReport, type ReportMetrics, storeMetrics } from './data.js';
export { renderHtml } from './html.js';
export { renderText } from './text.js';

/** Output formats of `prodmon report`. */
export const REPORT_FORMATS = ['text', 'json', 'html'] as const;
/** One of {@link REPORT_FORMATS}. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The report in a format. */
export function renderReport(
  r: PerformanceReport,
  format: ReportFormat,
  o: { timeZone?: string } = {},
): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'html') return renderHtml(r, o);
  return renderText(r, o);
}
