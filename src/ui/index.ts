// Public face of ui/: reporter choice and construction, the plain and tty renderers, the plan tree.
export { chooseReporterMode, useColor, type ModeInputs, type ReporterMode } from './choose-mode.js';
export { createReporter, type ReporterOptions } from './create-reporter.js';
export { formatPlainEvent, hostDoneText, hostsLabel, PlainReporter } from './plain-reporter.js';
export { LiveReporter, type LiveReporterOptions } from './live-reporter.js';
export { applyLiveEvent, initialLiveState, type LiveHost, type LiveState, type LiveStep } from './live-state.js';
export { finalLines, fitLine, headerText, liveCounts, liveFrame } from './live-view.js';
export { collapsedHostLine, TtyReporter, type TtyReporterOptions } from './tty-reporter.js';
export { formatArg, formatCommand, formatEndpoint, formatPlan, formatRollbackPlan } from './format-plan.js';
export { painter, type Paint, type Style } from './paint.js';
export { formatCheckPlan, formatCheckTable, formatExecBlock, formatGenerations, formatHistory, formatRebootPlan, shortRevision, formatStatusTable, formatUptime, verdictWords, type HostCheck } from './format-operate.js';
