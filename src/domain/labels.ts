/** Labels: the string pairs that identify a series or an alert. */

/** String labels identifying a series or an alert (route, method, check...). */
export type Labels = Record<string, string>;

/** Canonical, order-independent string form of labels (`a=1,b=2`), for keys and fingerprints. */
export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}
