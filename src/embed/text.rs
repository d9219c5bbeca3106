//! Text → CLIP token ids, as the reference tokenizer produces them.
//!
//! The byte-pair encoding is OpenAI's own (`bpe_simple_vocab_16e6.txt`,
//! embedded by the `instant-clip-tokenizer` crate). Like transformers'
//! `CLIPTokenizerFast`, text is NFC-normalised and lower-cased, then
//! `<|startoftext|>` (49406) is put first and `<|endoftext|>` (49407) last;
//! a sequence longer than the context (77) keeps its first 76 tokens and
//! ends with `<|endoftext|>`, as the reference truncation does.

use instant_clip_tokenizer::Tokenizer;
use unicode_normalization::UnicodeNormalization;

/// `<|startoftext|>`.
pub const BOS: u32 = 49406;
/// `<|endoftext|>`.
pub const EOS: u32 = 49407;
/// CLIP's context length.
pub const CONTEXT_LENGTH: usize = 77;

/// The CLIP tokenizer with its context length.
pub struct ClipTokenizer {
    bpe: Tokenizer,
    context_length: usize,
}

impl std::fmt::Debug for ClipTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipTokenizer")
            .field("context_length", &self.context_length)
            .finish_non_exhaustive()
    }
}

impl ClipTokenizer {
    /// The OpenAI vocabulary with `context_length` tokens at most (≥ 2).
    pub fn new(context_length: usize) -> Self {
        Self {
            bpe: Tokenizer::new(),
            context_length: context_length.max(2),
        }
    }

    /// Token ids of `text`: BOS, the text's tokens (truncated), EOS.
    /// Never longer than the context; never padded.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let normalized: String = text.nfc().collect();
        let mut tokens = Vec::new();
        self.bpe.encode(&normalized, &mut tokens);
        let mut ids = Vec::with_capacity(self.context_length);
        ids.push(BOS);
        ids.extend(
            tokens
                .into_iter()
                .map(|t| u32::from(t.to_u16()))
                // The crate turns the literal text "<end_of_text>" into a
                // special token; a user's text never carries one.
                .filter(|&id| id != BOS && id != EOS)
                .take(self.context_length - 2),
        );
        ids.push(EOS);
        ids
    }

    /// Ids of several texts, right-padded with 0 to the longest one.
    /// Padding with 0 keeps `argmax(ids)` = the EOS position, which is
    /// where CLIP pools; the causal mask keeps padding from influencing it.
    pub fn encode_batch(&self, texts: &[&str]) -> (Vec<u32>, usize) {
        let encoded: Vec<Vec<u32>> = texts.iter().map(|t| self.encode(t)).collect();
        let width = encoded.iter().map(Vec::len).max().unwrap_or(2);
        let mut flat = Vec::with_capacity(width * encoded.len());
        for ids in encoded {
            let pad = width - ids.len();
            flat.extend(ids);
            flat.extend(std::iter::repeat_n(0, pad));
        }
        (flat, width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sentence_matches_the_reference_ids() {
        let tokenizer = ClipTokenizer::new(CONTEXT_LENGTH);
        assert_eq!(
            tokenizer.encode("a photo of a cat"),
            [49406, 320, 1125, 539, 320, 2368, 49407]
        );
    }

    #[test]
    fn long_text_is_truncated_keeping_eos_last() {
        let tokenizer = ClipTokenizer::new(CONTEXT_LENGTH);
        let ids = tokenizer.encode(&"word ".repeat(200));
        assert_eq!(ids.len(), CONTEXT_LENGTH);
        assert_eq!(ids[0], BOS);
        assert_eq!(ids[CONTEXT_LENGTH - 1], EOS);
    }

    #[test]
    fn batch_is_zero_padded() {
        let tokenizer = ClipTokenizer::new(CONTEXT_LENGTH);
        let (ids, width) = tokenizer.encode_batch(&["a photo of a cat", "cat"]);
        assert_eq!(width, 7);
        assert_eq!(&ids[7..], &[BOS, 2368, EOS, 0, 0, 0, 0]);
    }

    #[test]
    fn decomposed_unicode_is_normalised() {
        let tokenizer = ClipTokenizer::new(CONTEXT_LENGTH);
        assert_eq!(tokenizer.encode("cafe\u{301}"), tokenizer.encode("café"));
    }
}
