/** Reading prodmon's Grafana dashboard JSON in tests: its panels and their Prometheus queries. */

/** The parts of a Grafana dashboard model the tests read. */
export interface GrafanaDashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query?: unknown }[] };
  panels: {
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { type: string; uid: string };
    targets?: { expr: string; refId: string; datasource?: { type: string; uid: string } }[];
  }[];
}

/** One query of a panel. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}

/** Every query of every panel, in order. */
export function dashboardQueries(d: GrafanaDashboard): PanelQuery[] {
  return d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: `${p.title} (${t.refId})`,
      refId: t.refId,
      expr: t.expr,
      datasource: t.datasource,
    })),
  );
}

/**
 * A panel's query as Prometheus can run it: the dashboard's variables with the values Grafana gives
 * them when every job and instance is selected, `$__rate_interval` as `window`.
 */
export function resolveQuery(expr: string, window: string): string {
  return expr.replaceAll('$__rate_interval', window).replaceAll('$job', '.+').replaceAll('$instance', '.+');
}
