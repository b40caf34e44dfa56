/** CPU time (user and system, all threads) this process has used so far, in ms (`process.cpuUsage`). */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
