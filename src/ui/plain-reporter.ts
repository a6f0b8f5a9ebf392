// The plain renderer: one prefixed line per event worth showing, for CI logs and pipes.
import { describeOutcome, diffSummary, formatDiffLines, formatDuration, outcomeDuration } from '../report/index.js';
import { FAILED_OUTCOMES, type HostOutcome, type Reporter, type RunEvent } from '../run/events.js';
import type { Wave } from '../plan/types.js';
import { painter, type Paint } from './paint.js';

/** At most this many host names are listed in a `[build]` line prefix before `+N`. */
const BUILD_LABEL_HOSTS = 3;

/** `web-1, web-2, web-3 +4` */
export function hostsLabel(hosts: readonly string[], max = BUILD_LABEL_HOSTS): string {
  if (hosts.length <= max) return hosts.join(', ');
  return `${hosts.slice(0, max).join(', ')} +${hosts.length - max}`;
}

/** `2 hosts to evaluate, 6 from the evaluation cache (web-1, web-2, web-3 +3)`: what the evaluation cache answered. */
export function evalCacheText(cached: readonly string[], evaluating: number): string {
  const hosts = (n: number) => `${n} host${n === 1 ? '' : 's'}`;
  const from = cached.length > 0 ? `${hosts(cached.length)} from the evaluation cache (${hostsLabel(cached)})` : 'none from the evaluation cache';
  return `${hosts(evaluating)} to evaluate, ${from}`;
}

/** The final line of a host: what happened, the system it runs, how long it took. */
export function hostDoneText(outcome: HostOutcome): string {
  const showPath =
    outcome.storePath !== undefined && (outcome.kind === 'changed' || outcome.kind === 'unchanged');
  return `${describeOutcome(outcome)}${showPath ? ` ${outcome.storePath}` : ''} (${formatDuration(outcomeDuration(outcome))})`;
}

/** `canary vps-pacman (wave 1/4)`, `wave 2/4: web1, web2`. */
export function waveLabel(wave: Wave, waves: number): string {
  return wave.kind === 'canary' ? `canary ${wave.hosts.join(', ')} (wave ${wave.index}/${waves})` : `wave ${wave.index}/${waves}: ${hostsLabel(wave.hosts, 6)}`;
}

/** The one line of a rollout event, without a prefix. */
export function rolloutText(event: Extract<RunEvent, { type: 'wave-start' | 'wave-pause' | 'rollout-stopped' }>): string {
  switch (event.type) {
    case 'wave-start':
      return `${waveLabel(event.wave, event.waves)}: starting`;
    case 'wave-pause':
      return `pausing ${event.seconds}s before ${event.next.kind === 'canary' ? 'the canary' : `wave ${event.next.index}/${event.waves}`} (Ctrl-C stops the rollout)`;
    case 'rollout-stopped':
      return `rollout stopped: ${event.reason}${event.rollingBack.length > 0 ? `; rolling back ${event.rollingBack.join(', ')}` : ''}`;
  }
}

/**
 * The plain lines for one event (zero or more, without newlines). Pure, so the renderer's
 * output for a scripted run can be asserted line by line.
 */
export function formatPlainEvent(event: RunEvent, paint: Paint = painter(false)): string[] {
  const tag = (name: string) => paint('cyan', `[${name}]`);
  switch (event.type) {
    case 'build-cached':
      return [`${tag('build')} ${evalCacheText(event.hosts, event.evaluating)}`];
    case 'build-start': {
      const chunk = event.chunks > 1 ? ` (chunk ${event.chunk}/${event.chunks})` : '';
      return [`${tag('build')} ${event.hosts.join(', ')}: building${chunk}`];
    }
    case 'build-line':
      return [`${tag('build')} ${hostsLabel(event.hosts)}: ${event.line}`];
    case 'build-done':
      return [`${tag('build')} ${event.host}: built ${event.output} ${event.storePath}`];
    case 'build-failed':
      return [`${tag('build')} ${event.host}: ${paint('red', 'build failed')} — ${event.reason}`];
    case 'host-start':
      // The first step line says the host has started; a line of its own adds nothing.
      return [];
    case 'step-start':
      return [`${tag(event.host)} ${event.step}: ${event.title && event.title !== event.step ? event.title : 'started'}`];
    case 'step-line':
      return event.quiet ? [] : [`${tag(event.host)} ${event.step}: ${event.line}`];
    case 'step-progress':
      // The tool's own lines (a line per path copied) already say it, in order.
      return [];
    case 'step-skip':
      return [`${tag(event.host)} ${event.step}: ${paint('dim', 'skipped')} — ${event.reason}`];
    case 'step-done':
      return [`${tag(event.host)} ${event.step}: ${paint('green', 'done')}${event.detail ? ` (${event.detail})` : ''}`];
    case 'step-failed':
      return [`${tag(event.host)} ${event.step}: ${paint('red', 'failed')} — ${event.reason}`];
    case 'host-note':
      return event.level === 'warn'
        ? [`${tag(event.host)} ${paint('yellow', `! ${event.message}`)}`]
        : [`${tag(event.host)} note: ${event.message}`];
    case 'host-diff':
      return [diffSummary(event.diff), ...formatDiffLines(event.diff).map((line) => `  ${line}`)].map((line) => `${tag(event.host)} diff: ${line}`);
    case 'host-done': {
      const o = event.outcome;
      const text = hostDoneText(o);
      const styled = FAILED_OUTCOMES.includes(o.kind)
        ? paint('red', text)
        : o.kind === 'skipped'
          ? paint('yellow', text)
          : paint('green', text);
      return [`${tag(o.host)} ${styled}`];
    }
    case 'interrupted':
      return [
        event.second
          ? `${tag('fleet')} ${paint('yellow', 'interrupted again — leaving now')}`
          : `${tag('fleet')} ${paint('yellow', 'interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once')}`,
      ];
    case 'wave-start':
    case 'wave-pause':
      return [`${tag('rollout')} ${rolloutText(event)}`];
    case 'rollout-stopped':
      return [`${tag('rollout')} ${paint('red', rolloutText(event))}`];
    default: {
      const never: never = event;
      throw new Error(`unhandled run event ${JSON.stringify(never)}`);
    }
  }
}

/** Writes {@link formatPlainEvent} lines to a stream as events arrive. No spinners, no cursor movement. */
export class PlainReporter implements Reporter {
  private readonly paint: Paint;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: { color?: boolean } = {},
  ) {
    this.paint = painter(options.color ?? false);
  }

  emit(event: RunEvent): void {
    const lines = formatPlainEvent(event, this.paint);
    if (lines.length > 0) this.stream.write(`${lines.join('\n')}\n`);
  }

  async close(): Promise<void> {
    // Lines are written synchronously as events arrive; nothing is buffered here.
  }
}
