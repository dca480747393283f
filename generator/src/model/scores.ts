// Reading scores: the predicted class and how many predictions match their labels.

/** Index of the largest score (the first one on ties). */
export function argmax(s: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
  return best;
}

/** How many score vectors' argmax equals the label. */
export function countCorrect(scores: ArrayLike<number>[], labels: number[]): number {
  return scores.reduce((n: number, s, i) => n + (argmax(s) === labels[i] ? 1 : 0), 0);
}
