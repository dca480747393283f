"""SparksSchedule: the Sparks training schedule over a sparksified model, advanced once per optimiser step.

    schedule = SparksSchedule(model, total_steps)      # after sparksify(model, tau), before the loop
    ...
    optimizer.step(); schedule.step()                 # in the loop

As fractions of `total_steps`:
  [0, plain_frac)             plain BNN warm-up: W' = W (sign(W) is the kernel);
  at plain_frac               the selection starts: scores from the latent kernels (greedy quantisation-error choice,
                              or the histogram), or for method='topn' the n most frequent codewords, fixed;
  [plain_frac, freeze_frac)   Gumbel-Sinkhorn + PSTE, temperature annealed geometrically t0 -> t1, the Gumbel noise
                              scale falling as (T/t0)^noise_decay so the choice settles;
  at freeze_frac              the selection is frozen (the noise-free assignment); the latent weights keep training,
                              each kernel mapped to its nearest selected codeword;
  at total_steps              the +-1 kernels are frozen (finish() does it too): what evaluation and export use.
With a model trained plain beforehand (the recipe of docs/training.md), use plain_frac=0, freeze_frac=0.4.
"""
import torch

from .sparksify import latent_weight, sparks_layers


class SparksSchedule:
    def __init__(self, model, total_steps, *, plain_frac=0.3, freeze_frac=0.7, t0=1.0, t1=0.005, noise=1.0,
                 noise_decay=1.0, score_init='greedy', method='sparks', solve_every=1, seed=0, log=None):
        if method not in ('sparks', 'topn'):
            raise ValueError(f"method must be 'sparks' or 'topn', got {method!r}")
        self.layers = sparks_layers(model)
        if not self.layers:
            raise ValueError('SparksSchedule: the model has no sparksified layer (call sparksify(model, tau) first)')
        self.total = int(total_steps)
        self.plain_end = int(round(plain_frac * self.total))
        self.freeze_at = self.plain_end if method == 'topn' else max(self.plain_end, int(round(freeze_frac * self.total)))
        self.t0, self.t1, self.noise, self.noise_decay = t0, t1, noise, noise_decay
        self.score_init, self.method = score_init, method
        self.log = log or (lambda s: None)
        self.step_count = 0
        self.swaps = 0  # codeword changes in the hard selections since the last read of take_swaps()
        self._prev = None
        self._gen = torch.Generator().manual_seed(seed)  # score-init jitter: identical on every rank
        for i, (_, _, _, sw) in enumerate(self.layers):
            sw.noise_seed = seed * 1009 + i
            sw.solve_every = solve_every
        self._apply()

    @property
    def phase(self):
        s = self.step_count
        if s >= self.total and all(sw.qsign.dim() == 2 for *_, sw in self.layers):
            return 'kernels frozen'
        if s < self.plain_end:
            return 'plain'
        return 'selecting' if s < self.freeze_at else 'selection frozen'

    def temperature(self):
        return self.layers[0][3].temperature

    def step(self):
        """Call once after every optimiser step."""
        self._track_swaps()
        self.step_count += 1
        self._apply()

    def _apply(self):
        s = self.step_count
        for _, m, pname, sw in self.layers:
            sw.step = s
            w = latent_weight(m, pname)
            if s == self.plain_end and sw.plain and not sw.is_selection_frozen():
                if self.method == 'topn':
                    sw.select_most_frequent(w)
                else:
                    sw.init_scores(w, self.score_init, gen=self._gen)
            if self.plain_end <= s < self.freeze_at:
                frac = (s - self.plain_end) / max(1, self.freeze_at - self.plain_end)
                sw.temperature = self.t0 * (self.t1 / self.t0) ** frac
                sw.noise = self.noise * (sw.temperature / self.t0) ** self.noise_decay
            if s == self.freeze_at and not sw.is_selection_frozen():
                if sw.plain:  # no selection phase (a very short run)
                    sw.init_scores(w, self.score_init, gen=self._gen)
                sw.freeze_selection()
        if s == self.plain_end and self.total:
            self.log(f'step {s}: selection starts ({self.method}, scores: {self.score_init})')
        if s == self.freeze_at and self.total:
            self.log(f'step {s}: selection frozen')
        if s >= self.total:
            self.finish()

    def _track_swaps(self):
        if self.phase != 'selecting':
            self._prev = None
            return
        sel = [tuple(sorted(sw.last_selection.tolist())) if sw.last_selection is not None else () for *_, sw in self.layers]
        if self._prev is not None:
            self.swaps += sum(len(set(a) ^ set(b)) // 2 for a, b in zip(sel, self._prev))
        self._prev = sel

    def take_swaps(self):
        n, self.swaps = self.swaps, 0
        return n

    def finish(self):
        """Freeze the selection (if still learning) and the +-1 kernels of every layer: call before evaluation,
        the batch-norm recompute and export (step() does it at total_steps)."""
        for _, m, pname, sw in self.layers:
            if sw.qsign.dim() != 2:
                w = latent_weight(m, pname)
                if not sw.is_selection_frozen():
                    if self.method == 'topn':
                        sw.select_most_frequent(w)
                    else:
                        if sw.plain:
                            sw.init_scores(w, self.score_init, gen=self._gen)
                        sw.freeze_selection()
                sw.freeze_kernels(w)
