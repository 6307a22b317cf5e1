/** Dictionary encoding of strings: each distinct string gets the next code, in order of first sight. */
export class Dictionary {
  readonly names: string[] = [];
  private readonly codes = new Map<string, number>();

  /** The code of `name`, assigning the next one the first time. */
  code(name: string): number {
    let c = this.codes.get(name);
    if (c === undefined) {
      c = this.names.length;
      this.codes.set(name, c);
      this.names.push(name);
    }
    return c;
  }

  /** The code of a true event label, -1 for clutter (`null`). */
  label(event: string | null): number {
    return event === null ? -1 : this.code(event);
  }
}
