/**
 * An AbortSignal that fires on the first SIGINT or SIGTERM, for `--wait`: stopping the wait must
 * not look like a failure of the jobs, which keep running on the cluster. `dispose()` removes the
 * handlers again.
 */
export function stopOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(sig);
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onSignal).off('SIGTERM', onSignal); } };
}
