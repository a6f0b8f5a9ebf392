// One interrupt policy for every command: the first Ctrl-C (or SIGTERM) aborts the run, so no new
// step starts and running processes get SIGINT; the second leaves at once with exit 130.
import { setMaxListeners } from 'node:events';
import { EXIT } from './exit.js';

export interface InterruptHandlers {
  /** Before the run's signal is aborted (e.g. tell the reporter). */
  first?: () => void;
  /** Before fleet leaves on a second interrupt (e.g. write what is known so far). */
  second?: () => void;
}

/** An AbortSignal for Ctrl-C while a command runs; `dispose` removes the handlers. */
export function interruptSignal(handlers: InterruptHandlers = {}): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  // Every running process listens (and stops listening when it ends): ten hosts at once, each with
  // its held lock session and its step's command, pass Node's default of 10 and would print a
  // MaxListenersExceededWarning over the live view.
  setMaxListeners(0, controller.signal);
  let count = 0;
  const onSignal = () => {
    count++;
    if (count > 1) {
      handlers.second?.();
      process.exit(EXIT.interrupted);
    }
    handlers.first?.();
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
