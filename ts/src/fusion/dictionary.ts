import { StringIndex } from './string-index.js';

/** Dictionary encoding of strings: each distinct string gets the next code, in order of first sight. */
export class Dictionary {
  private readonly index = new StringIndex();

  /** Every distinct string, by code. */
  get names(): string[] {
    return this.index.strings;
  }

  /** The code of `name`, assigning the next one the first time. */
  code(name: string): number {
    return this.index.intern(name);
  }

  /** The code of a true event label, -1 for clutter (`null`). */
  label(event: string | null): number {
    return event === null ? -1 : this.code(event);
  }
}
