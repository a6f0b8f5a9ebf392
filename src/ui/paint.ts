// Minimal ANSI styling for the plain renderer and the plan tree; off unless the caller asks for colour.

/** The few styles fleet uses. */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

/** Applies a style to a string, or returns it unchanged when colour is off. */
export type Paint = (style: Style, text: string) => string;

/** A painter; `color: false` (the default everywhere) never emits an escape sequence. */
export function painter(color: boolean): Paint {
  if (!color) return (_style, text) => text;
  return (style, text) => {
    const [open, close] = CODES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  };
}
