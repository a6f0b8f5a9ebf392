// Public face of report/: outcome summary, exit-code policy, summary table, JSON and GitHub reports.
export {
  EXIT,
  EXIT_CODES,
  exitCodeFor,
  formatExitCodes,
  summarize,
  type ExitCodeEntry,
  type Summary,
} from './exit-codes.js';
export { describeOutcome, formatDuration, outcomeDuration, shortStorePath } from './format.js';
export { alignColumns, formatSummaryTable, TAIL_LINES } from './summary-table.js';
export {
  buildJsonReport,
  REPORT_VERSION,
  reportCommand,
  type JsonHost,
  type JsonReport,
  type JsonStep,
  type JsonTotals,
  type RunTimes,
} from './json-report.js';
export { appendGithubSummary, formatGithubSummary } from './github-summary.js';
export { diffSummary, formatByteDelta, formatBytes, formatDiffBlock, formatDiffLines } from './diff-text.js';
