/* Validation of execute's params: defaults, every field's error naming the
 * field, path normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "box_path.h"
#include "config.h"
#include "exec_request.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	struct error err;
	return config_load(&cfg, "/nonexistent/isol8d.json", false, &err);
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

/* Parses text; returns the error message or NULL on success. */
static const char *parse(const char *text, struct exec_request *r)
{
	static struct error err;
	json_object *p = json_tokener_parse(text);
	assert_non_null(p);
	int rc = exec_request_parse(p, &cfg, r, &err);
	json_object_put(p);
	return rc == 0 ? NULL : err.message;
}

static void test_defaults(void **state)
{
	(void)state;
	struct exec_request r;
	assert_null(parse("{\"request\":{\"code\":\"print(1)\","
			  "\"runtime\":\"python\"}}",
			  &r));
	assert_string_equal(r.runtime->name, "python");
	assert_string_equal(r.code_path, "/sandbox/main.py");
	assert_int_equal(r.timeout_ms, 30000);
	assert_int_equal(r.memory, 512ull << 20);
	assert_int_equal(r.pids, 64);
	assert_int_equal(r.max_output, 1048576);
	assert_int_equal(r.sandbox_size, 512ull << 20);
	assert_int_equal(r.tmp_size, 256ull << 20);
	assert_true(r.cpus == 1.0);
	assert_string_equal(r.network, "none");
	assert_string_equal(r.seccomp_mode, "strict");
	exec_request_free(&r);
}

static void test_options_and_env(void **state)
{
	(void)state;
	struct exec_request r;
	assert_null(parse(
		"{\"request\":{\"code\":\"x\",\"fileExtension\":\"mjs\","
		"\"env\":{\"A\":\"1\"},\"timeoutMs\":500,"
		"\"files\":{\"data/in.txt\":\"hi\",\"/tmp/t\":\"\"},"
		"\"outputPaths\":[\"out.txt\"],\"workdir\":\"sub/../dir\"},"
		"\"options\":{\"memoryLimit\":\"1g\",\"cpuLimit\":0.5,"
		"\"pidsLimit\":10,\"secrets\":{\"TOKEN\":\"abc\"},"
		"\"timeoutMs\":9000,\"maxOutputSize\":\"1k\"}}",
		&r));
	assert_string_equal(r.runtime->name, "node");
	assert_string_equal(r.code_path, "/sandbox/main.mjs");
	assert_int_equal(r.timeout_ms, 500); /* the request's wins */
	assert_int_equal(r.memory, 1ull << 30);
	assert_int_equal(r.max_output, 1024);
	assert_string_equal(r.env[0], "A=1");
	assert_string_equal(r.env[1], "TOKEN=abc");
	assert_string_equal(r.secret_values[0], "abc");
	assert_int_equal(r.nfiles, 2);
	assert_string_equal(r.files[0].path, "/sandbox/data/in.txt");
	assert_string_equal(r.files[1].path, "/tmp/t");
	assert_string_equal(r.output_paths[0], "/sandbox/out.txt");
	assert_string_equal(r.workdir, "/sandbox/dir");
	exec_request_free(&r);
}

static void expect_error(const char *text, const char *needle)
{
	struct exec_request r;
	const char *err = parse(text, &r);
	if (!err || !strstr(err, needle))
		fail_msg("for %s expected an error containing \"%s\", got "
			 "\"%s\"",
			 text, needle, err ? err : "(success)");
	exec_request_free(&r);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("{}", "request");
	expect_error("{\"request\":{\"runtime\":\"python\"}}",
		     "exactly one of \"code\", \"cmd\" and \"codeUrl\"");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"ruby\"}}",
		     "Unknown runtime: \"ruby\". Available: python, node, bun, "
		     "deno, bash");
	expect_error("{\"request\":{\"code\":\"x\",\"fileExtension\":\".rb\"}}",
		     "Cannot detect runtime for main.rb");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"timeoutMs\":\"5\"}}",
		     "request.timeoutMs");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"timeoutMs\":0}}",
		     "request.timeoutMs");
	expect_error(
		"{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		"\"options\":{\"memoryLimit\":\"lots\"}}",
		"Invalid memory limit format: \"lots\". Use e.g. \"512m\", "
		"\"1g\".");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"cpuLimit\":-1}}",
		     "options.cpuLimit");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"tmpSize\":\"1x\"}}",
		     "options.tmpSize");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"env\":{\"A\":1}}}",
		     "request.env.A");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"workdir\":\"/etc\"}}",
		     "Working directory must be inside /sandbox");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"workdir\":\"../..\"}}",
		     "Working directory must be inside /sandbox");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"files\":{\"../../etc/passwd\":\"x\"}}}",
		     "request.files");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"outputPaths\":[\"/etc/shadow\"]}}",
		     "request.outputPaths[0]");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"installPackages\":[\"ok\",\"bad;rm\"]}}",
		     "installPackages");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"installPackages\":[\"--index-url=x\"]}}",
		     "installPackages");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		     "\"bogus\":1}}",
		     "request.bogus: unknown field");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"security\":{\"seccomp\":\"lax\"}}}",
		     "options.security.seccomp");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"security\":{\"seccomp\":\"custom\"}}}",
		     "customProfilePath");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"network\":\"host\"}}",
		     "options.network");
	expect_error("{\"request\":{\"cmd\":\"ls\",\"stdin\":5}}",
		     "request.stdin");
}

/* isol8's hints are read for their shape and, but for debug and persist,
 * have no effect; an empty sessionId is none, as isol8 takes it. */
static void test_isol8_fields(void **state)
{
	(void)state;
	struct exec_request r;
	assert_null(
		parse("{\"request\":{\"code\":\"x\",\"runtime\":\"python\","
		      "\"allowInsecureCodeUrl\":false},\"sessionId\":\"\","
		      "\"options\":{\"mode\":\"persistent\",\"debug\":true,"
		      "\"persist\":true,\"poolStrategy\":\"secure\","
		      "\"poolSize\":{\"clean\":2,\"dirty\":0},"
		      "\"audit\":{\"enabled\":true,\"retentionDays\":1},"
		      "\"remoteCode\":{\"enabled\":true,\"allowedHosts\":[]}}}",
		      &r));
	assert_true(r.compat.debug);
	assert_true(r.compat.persist);
	assert_null(r.session_id);
	exec_request_free(&r);
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"poolSize\":1.5}}",
		     "options.poolSize: must be a non-negative integer");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		     "\"options\":{\"remoteCode\":{\"cacheTtl\":-1}}}",
		     "options.remoteCode.cacheTtl");
	expect_error("{\"request\":{\"code\":\"x\",\"runtime\":\"agent\"}}",
		     "\"agent\" runtime");
}

/* Unconfined and custom profiles only where the configuration allows
 * them, the refusal naming the key that would. */
static void test_seccomp_policy(void **state)
{
	(void)state;
	struct exec_request r;
	const char *unconfined =
		"{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		"\"options\":{\"security\":{\"seccomp\":\"unconfined\"}}}";
	const char *custom =
		"{\"request\":{\"code\":\"x\",\"runtime\":\"python\"},"
		"\"options\":{\"security\":{\"seccomp\":\"custom\","
		"\"customProfilePath\":\"p.json\"}}}";
	expect_error(unconfined, "options.security.seccomp: \"unconfined\" is "
				 "refused: the daemon's configuration does "
				 "not set security.allowUnconfined");
	expect_error(custom, "options.security.seccomp: \"custom\" is "
			     "refused: the daemon's configuration does not "
			     "set security.allowCustomProfiles");
	cfg.sec_allow_unconfined = cfg.sec_allow_custom = true;
	assert_null(parse(unconfined, &r));
	assert_string_equal(r.seccomp_mode, "unconfined");
	exec_request_free(&r);
	assert_null(parse(custom, &r));
	assert_string_equal(r.seccomp_path, "p.json");
	exec_request_free(&r);
	cfg.sec_allow_unconfined = cfg.sec_allow_custom = false;
}

static void test_path_normalize(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(box_path_normalize("a/b", false, out, sizeof(out)), 0);
	assert_string_equal(out, "/sandbox/a/b");
	assert_int_equal(box_path_normalize("/sandbox//x/./y/../z", false, out,
					    sizeof(out)),
			 0);
	assert_string_equal(out, "/sandbox/x/z");
	assert_int_equal(
		box_path_normalize("/sandbox", false, out, sizeof(out)), 0);
	assert_int_equal(
		box_path_normalize("/sandboxes/x", false, out, sizeof(out)),
		-EINVAL);
	assert_int_equal(box_path_normalize("/tmp/x", false, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(box_path_normalize("/tmp/x", true, out, sizeof(out)),
			 0);
	assert_int_equal(
		box_path_normalize("/sandbox/../etc", true, out, sizeof(out)),
		-EINVAL);
	assert_int_equal(box_path_normalize("", true, out, sizeof(out)),
			 -EINVAL);
}

/* Above the administrator's ceilings and below what a box runs with. */
static void test_ceilings(void **state)
{
	(void)state;
	static const struct {
		const char *options, *message;
	} cases[] = {
		{ "\"memoryLimit\":\"1024g\"",
		  "options.memoryLimit 1024g exceeds the administrator's "
		  "ceiling limits.memoryLimit (4g)" },
		{ "\"maxOutputSize\":\"2g\"",
		  "options.maxOutputSize 2g exceeds the administrator's "
		  "ceiling limits.maxOutputSize (16m)" },
		{ "\"cpuLimit\":1024",
		  "options.cpuLimit 1024 exceeds the administrator's ceiling "
		  "limits.cpuLimit (8)" },
		{ "\"pidsLimit\":4194304",
		  "options.pidsLimit 4194304 exceeds the administrator's "
		  "ceiling limits.pidsLimit (1024)" },
		{ "\"cpuLimit\":0.0001",
		  "options.cpuLimit: must be a number from 0.01 to 8" },
		{ "\"pidsLimit\":1",
		  "options.pidsLimit: must be an integer from 2 to 1024" },
		{ "\"tmpSize\":1000",
		  "options.tmpSize: must be from 1m to 4g" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct exec_request r;
		snprintf(text, sizeof(text),
			 "{\"request\":{\"cmd\":\"true\"},\"options\":{%s}}",
			 cases[i].options);
		const char *msg = parse(text, &r);
		assert_non_null(msg);
		assert_string_equal(msg, cases[i].message);
		exec_request_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options_and_env),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_isol8_fields),
		cmocka_unit_test(test_seccomp_policy),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_ceilings),
	};
	return cmocka_run_group_tests_name("exec_request", tests, setup,
					   teardown);
}
