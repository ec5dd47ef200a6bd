// SPDX-License-Identifier: GPL-2.0-only
/* SHA-2 of several messages at once; the contract is in hashmb.h. */
#include <string.h>

#include "hashmb.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* FIPS 180-4, 4.2.3 */
static const uint64_t K512[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

/* FIPS 180-4, 5.3.4 and 5.3.5 */
static const uint64_t IV384[8] = {
	0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
	0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
};
static const uint64_t IV512[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
	0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

#define TARGET __attribute__((target("avx512f")))
#define ROR(x, n) _mm512_ror_epi64(x, n)
#define XOR3(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)
#define CH(e, f, g) _mm512_ternarylogic_epi64(e, f, g, 0xca)  /* (e & f) ^ (~e & g) */
#define MAJ(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0xe8) /* majority */
#define ADD(a, b) _mm512_add_epi64(a, b)
#define ROR32(x, n) _mm512_ror_epi32(x, n)
#define XOR3_32(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0x96)
#define CH32(e, f, g) _mm512_ternarylogic_epi32(e, f, g, 0xca)
#define MAJ32(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0xe8)
#define ADD32(a, b) _mm512_add_epi32(a, b)

/*
 * One block in every lane (word t of lane l in w[t][l]); only the lanes in
 * live take the result, the others keep their state (their message ended).
 */
TARGET static void compress512(__m512i s[8], const uint64_t w_in[16][8], __mmask8 live)
{
	__m512i w[16], a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6],
		       h = s[7];

	for (int t = 0; t < 16; t++)
		w[t] = _mm512_load_si512(w_in[t]);
	for (int t = 0; t < 80; t++) {
		__m512i wt, t1, t2;

		if (t < 16) {
			wt = w[t];
		} else {
			__m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			__m512i s0 = XOR3(ROR(w15, 1), ROR(w15, 8), _mm512_srli_epi64(w15, 7));
			__m512i s1 = XOR3(ROR(w2, 19), ROR(w2, 61), _mm512_srli_epi64(w2, 6));

			wt = ADD(ADD(w[t & 15], s0), ADD(w[(t - 7) & 15], s1));
			w[t & 15] = wt;
		}
		t1 = ADD(ADD(h, XOR3(ROR(e, 14), ROR(e, 18), ROR(e, 41))),
			 ADD(CH(e, f, g), ADD(_mm512_set1_epi64(K512[t]), wt)));
		t2 = ADD(XOR3(ROR(a, 28), ROR(a, 34), ROR(a, 39)), MAJ(a, b, c));
		h = g;
		g = f;
		f = e;
		e = ADD(d, t1);
		d = c;
		c = b;
		b = a;
		a = ADD(t1, t2);
	}
	s[0] = _mm512_mask_add_epi64(s[0], live, s[0], a);
	s[1] = _mm512_mask_add_epi64(s[1], live, s[1], b);
	s[2] = _mm512_mask_add_epi64(s[2], live, s[2], c);
	s[3] = _mm512_mask_add_epi64(s[3], live, s[3], d);
	s[4] = _mm512_mask_add_epi64(s[4], live, s[4], e);
	s[5] = _mm512_mask_add_epi64(s[5], live, s[5], f);
	s[6] = _mm512_mask_add_epi64(s[6], live, s[6], g);
	s[7] = _mm512_mask_add_epi64(s[7], live, s[7], h);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap64(v);
}

/* Block k (of nblocks) of the padded message into lane l of w (FIPS 180-4, 5.1.2). */
static void load_block512(uint64_t w[16][8], size_t l, const uint8_t *msg, size_t len, size_t k,
			  size_t nblocks)
{
	size_t off = k * 128;
	uint8_t buf[128];

	if (off + 128 <= len) {
		for (int t = 0; t < 16; t++)
			w[t][l] = be64(msg + off + 8 * t);
		return;
	}
	memset(buf, 0, sizeof(buf));
	if (off < len)
		memcpy(buf, msg + off, len - off);
	if (off <= len)
		buf[len - off] = 0x80;
	for (int t = 0; t < 16; t++)
		w[t][l] = be64(buf + 8 * t);
	if (k == nblocks - 1) {
		/* the length in bits, 128 bits big-endian */
		w[14][l] = (uint64_t)len >> 61;
		w[15][l] = (uint64_t)len << 3;
	}
}

TARGET static void digest512(const struct hashalg *alg, size_t n, const uint8_t *const msg[],
			     const size_t len[], uint8_t *const out[])
{
	uint64_t w[16][8] __attribute__((aligned(64))), st[8][8] __attribute__((aligned(64)));
	const uint64_t *iv = alg->kernel_id == 5 ? IV384 : IV512;
	size_t nblocks[8], most = 0;
	__m512i s[8];

	for (size_t l = 0; l < n; l++) {
		nblocks[l] = (len[l] + 17 + 127) / 128; /* 0x80 and the 16-byte length */
		most = nblocks[l] > most ? nblocks[l] : most;
	}
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_set1_epi64(iv[i]);
	memset(w, 0, sizeof(w));
	for (size_t k = 0; k < most; k++) {
		__mmask8 live = 0;

		for (size_t l = 0; l < n; l++)
			if (k < nblocks[l]) {
				load_block512(w, l, msg[l], len[l], k, nblocks[l]);
				live |= 1u << l;
			}
		compress512(s, (const uint64_t(*)[8])w, live);
	}
	for (int i = 0; i < 8; i++)
		_mm512_store_si512(st[i], s[i]);
	for (size_t l = 0; l < n; l++)
		for (size_t i = 0; i < alg->size / 8; i++) {
			uint64_t v = __builtin_bswap64(st[i][l]);

			memcpy(out[l] + 8 * i, &v, sizeof(v));
		}
}

/* FIPS 180-4, 4.2.2 and 5.3.3 */
static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};
static const uint32_t IV256[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* compress512's, for SHA-256 in sixteen 32-bit lanes. */
TARGET static void compress256(__m512i s[8], const uint32_t w_in[16][16], __mmask16 live)
{
	__m512i w[16], a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6],
		       h = s[7];

	for (int t = 0; t < 16; t++)
		w[t] = _mm512_load_si512(w_in[t]);
	for (int t = 0; t < 64; t++) {
		__m512i wt, t1, t2;

		if (t < 16) {
			wt = w[t];
		} else {
			__m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			__m512i s0 =
				XOR3_32(ROR32(w15, 7), ROR32(w15, 18), _mm512_srli_epi32(w15, 3));
			__m512i s1 =
				XOR3_32(ROR32(w2, 17), ROR32(w2, 19), _mm512_srli_epi32(w2, 10));

			wt = ADD32(ADD32(w[t & 15], s0), ADD32(w[(t - 7) & 15], s1));
			w[t & 15] = wt;
		}
		t1 = ADD32(ADD32(h, XOR3_32(ROR32(e, 6), ROR32(e, 11), ROR32(e, 25))),
			   ADD32(CH32(e, f, g), ADD32(_mm512_set1_epi32(K256[t]), wt)));
		t2 = ADD32(XOR3_32(ROR32(a, 2), ROR32(a, 13), ROR32(a, 22)), MAJ32(a, b, c));
		h = g;
		g = f;
		f = e;
		e = ADD32(d, t1);
		d = c;
		c = b;
		b = a;
		a = ADD32(t1, t2);
	}
	s[0] = _mm512_mask_add_epi32(s[0], live, s[0], a);
	s[1] = _mm512_mask_add_epi32(s[1], live, s[1], b);
	s[2] = _mm512_mask_add_epi32(s[2], live, s[2], c);
	s[3] = _mm512_mask_add_epi32(s[3], live, s[3], d);
	s[4] = _mm512_mask_add_epi32(s[4], live, s[4], e);
	s[5] = _mm512_mask_add_epi32(s[5], live, s[5], f);
	s[6] = _mm512_mask_add_epi32(s[6], live, s[6], g);
	s[7] = _mm512_mask_add_epi32(s[7], live, s[7], h);
}

static uint32_t be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
}

/* load_block512's, for SHA-1 and SHA-256: 64-byte blocks, a 64-bit length. */
static void load_block256(uint32_t w[16][16], size_t l, const uint8_t *msg, size_t len, size_t k,
			  size_t nblocks)
{
	size_t off = k * 64;
	uint8_t buf[64];

	if (off + 64 <= len) {
		for (int t = 0; t < 16; t++)
			w[t][l] = be32(msg + off + 4 * t);
		return;
	}
	memset(buf, 0, sizeof(buf));
	if (off < len)
		memcpy(buf, msg + off, len - off);
	if (off <= len)
		buf[len - off] = 0x80;
	for (int t = 0; t < 16; t++)
		w[t][l] = be32(buf + 4 * t);
	if (k == nblocks - 1) {
		w[14][l] = (uint64_t)len >> 29;
		w[15][l] = (uint32_t)(len << 3);
	}
}

/* FIPS 180-4, 4.1.1, 4.2.1 and 5.3.1 */
static const uint32_t K1[4] = { 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6 };
static const uint32_t IV1[8] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };

#define ROL32(x, n) _mm512_rol_epi32(x, n)

/* compress256's, for SHA-1 (s[5] to s[7] unused). */
TARGET static void compress1(__m512i s[8], const uint32_t w_in[16][16], __mmask16 live)
{
	__m512i w[16], a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];

	for (int t = 0; t < 16; t++)
		w[t] = _mm512_load_si512(w_in[t]);
	for (int t = 0; t < 80; t++) {
		__m512i wt, f, tmp;

		if (t < 16) {
			wt = w[t];
		} else {
			wt = XOR3_32(w[(t - 3) & 15], w[(t - 8) & 15], w[(t - 14) & 15]);
			wt = ROL32(_mm512_xor_si512(wt, w[t & 15]), 1);
			w[t & 15] = wt;
		}
		f = t < 20 ? CH32(b, c, d) : t >= 40 && t < 60 ? MAJ32(b, c, d) : XOR3_32(b, c, d);
		tmp = ADD32(ADD32(ROL32(a, 5), f),
			    ADD32(e, ADD32(_mm512_set1_epi32(K1[t / 20]), wt)));
		e = d;
		d = c;
		c = ROL32(b, 30);
		b = a;
		a = tmp;
	}
	s[0] = _mm512_mask_add_epi32(s[0], live, s[0], a);
	s[1] = _mm512_mask_add_epi32(s[1], live, s[1], b);
	s[2] = _mm512_mask_add_epi32(s[2], live, s[2], c);
	s[3] = _mm512_mask_add_epi32(s[3], live, s[3], d);
	s[4] = _mm512_mask_add_epi32(s[4], live, s[4], e);
}

/* SHA-1 or SHA-256 of up to sixteen messages: 64-byte blocks of 32-bit words. */
TARGET static void digest32(const struct hashalg *alg, size_t n, const uint8_t *const msg[],
			    const size_t len[], uint8_t *const out[])
{
	uint32_t w[16][16] __attribute__((aligned(64))), st[8][16] __attribute__((aligned(64)));
	const uint32_t *iv = alg->kernel_id == 2 ? IV1 : IV256;
	size_t nblocks[16], most = 0;
	__m512i s[8];

	for (size_t l = 0; l < n; l++) {
		nblocks[l] = (len[l] + 9 + 63) / 64; /* 0x80 and the 8-byte length */
		most = nblocks[l] > most ? nblocks[l] : most;
	}
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_set1_epi32(iv[i]);
	memset(w, 0, sizeof(w));
	for (size_t k = 0; k < most; k++) {
		__mmask16 live = 0;

		for (size_t l = 0; l < n; l++)
			if (k < nblocks[l]) {
				load_block256(w, l, msg[l], len[l], k, nblocks[l]);
				live |= 1u << l;
			}
		if (alg->kernel_id == 2)
			compress1(s, (const uint32_t(*)[16])w, live);
		else
			compress256(s, (const uint32_t(*)[16])w, live);
	}
	for (int i = 0; i < 8; i++)
		_mm512_store_si512(st[i], s[i]);
	for (size_t l = 0; l < n; l++)
		for (size_t i = 0; i < alg->size / 4; i++) {
			uint32_t v = __builtin_bswap32(st[i][l]);

			memcpy(out[l] + 4 * i, &v, sizeof(v));
		}
}

size_t hashmb_lanes(const struct hashalg *alg)
{
	if (!__builtin_cpu_supports("avx512f"))
		return 0;
	switch (alg->kernel_id) {
	case 2:
	case 4:
		return 16;
	case 5:
	case 6:
		return 8;
	}
	return 0;
}

void hashmb_digest(const struct hashalg *alg, size_t n, const uint8_t *const msg[],
		   const size_t len[], uint8_t *const out[])
{
	if (alg->kernel_id == 2 || alg->kernel_id == 4)
		digest32(alg, n < 16 ? n : 16, msg, len, out);
	else
		digest512(alg, n < 8 ? n : 8, msg, len, out);
}

#else

size_t hashmb_lanes(const struct hashalg *alg)
{
	return 0;
}

void hashmb_digest(const struct hashalg *alg, size_t n, const uint8_t *const msg[],
		   const size_t len[], uint8_t *const out[])
{
}

#endif
