// The one place the dashboard reads the browser's clock (DESIGN.md invariant 6 on the server side):
// periods the overview asks for start from it.
export const browserNow = (): Date => new Date();
