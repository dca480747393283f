/* Binary fully connected: acc[n] = in_n - 2 * popcount(x ^ w[n]) (spare bits are 0 in both). */
#include "bnn_runtime.h"

void bnn_bdense_b1_acc_ref(const bnn_bdense_params_t *p, const uint32_t *in, void *out, int32_t *acc)
{
    uint32_t words = BNN_WORDS(p->in_n);
    for (uint32_t n = 0; n < p->out_n; n++) {
        const uint32_t *w = p->weights + (size_t)n * words;
        uint32_t mism = 0;
        for (uint32_t j = 0; j < words; j++) mism += bnn_popcount32(in[j] ^ w[j]);
        acc[n] = (int32_t)p->in_n - 2 * (int32_t)mism;
    }
    bnn_output_store(&p->out, acc, p->out_n, out, 0, 1);
}

/* Scratch: one int32 accumulator per output. */
uint32_t bnn_bdense_b1_acc_ref_scratch_words(const bnn_bdense_params_t *p) { return p->out_n; }
