/**
 * A value as an error message shows it: strings quoted, objects as JSON (cut at 80 characters),
 * so "returned undefined" and "returned \"42\"" read differently from "returned 42".
 */
export function shownValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return value.toString();
    case 'bigint':
      return `${value}n`;
    case 'string':
    case 'object': {
      let text: string;
      try {
        text = JSON.stringify(value) ?? Object.prototype.toString.call(value);
      } catch {
        text = Object.prototype.toString.call(value);
      }
      return text.length > 80 ? `${text.slice(0, 77)}...` : text;
    }
    default:
      return String(value);
  }
}
