/* fuzz_mcproto — libFuzzer target for common/mcproto.h: decode the input as
 * a client's byte stream the way ctserver does (command lines, storage
 * data blocks, multi-get key lists) and check the parser's promises:
 * consumed is within the buffer and ends at a '\n' (a binary request:
 * takes the rest), keys lie inside the line, a storage length is not
 * negative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mcproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_storage(enum ct_mc_op op)
{
	return op == CT_MC_OP_SET || op == CT_MC_OP_ADD || op == CT_MC_OP_REPLACE ||
	       op == CT_MC_OP_APPEND || op == CT_MC_OP_PREPEND || op == CT_MC_OP_CAS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	while (off < size) {
		struct ct_mc_cmd cmd;
		const char *line = buf + off;
		size_t len = size - off;
		enum ct_mc_status st = ct_mc_parse(line, len, &cmd);

		if (st != CT_MC_OK)
			break;
		/* A binary request ends the text stream: the rest is not lines. */
		if (cmd.op == CT_MC_OP_BINARY) {
			if (cmd.consumed != len || (unsigned char)line[0] != CT_MC_BINARY_MAGIC)
				abort();
			break;
		}
		if (cmd.consumed == 0 || cmd.consumed > len || line[cmd.consumed - 1] != '\n')
			abort();
		if (cmd.key && (cmd.key < line || cmd.key + cmd.nkey > line + cmd.consumed))
			abort();
		if (cmd.op == CT_MC_OP_GET || cmd.op == CT_MC_OP_GETS) {
			size_t pos = 0, nkey;
			const char *key;
			while (ct_mc_next_key(&cmd, &pos, &key, &nkey))
				if (key < line || key + nkey > line + cmd.consumed || nkey == 0)
					abort();
		}
		off += cmd.consumed;
		if (cmd.op == CT_MC_OP_CLOSE || cmd.op == CT_MC_OP_QUIT)
			break;
		if (is_storage(cmd.op)) {
			if (cmd.vlen < 0)
				abort();
			(void)ct_mc_item_too_large(cmd.nkey, (size_t)cmd.vlen, cmd.flags, 1024 * 1024);
			if (size - off < (size_t)cmd.vlen + 2)
				break;
			(void)ct_mc_data_ok(buf + off, (size_t)cmd.vlen);
			off += (size_t)cmd.vlen + 2;
		}
	}
	/* The number readers on the raw input (not NUL-terminated). */
	{
		uint64_t u64;
		uint32_t u32;
		int32_t i32;
		(void)ct_mc_strtoull(buf, size, &u64);
		(void)ct_mc_strtoul32(buf, size, &u32);
		(void)ct_mc_strtol32(buf, size, &i32);
	}
	free(buf);
	return 0;
}
