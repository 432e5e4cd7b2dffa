#include "check.h"
#include "profiler/analysis/units.h"

int main(void)
{
    cs_error err;
    uint64_t v;
    CHECK(prof_parse_size("256M", &v, &err) == 0);
    CHECK_INT(v, 256000000);
    CHECK(prof_parse_size("256Mi", &v, &err) == 0);
    CHECK_INT(v, 256ull << 20);
    CHECK(prof_parse_size("1.5GiB", &v, &err) == 0);
    CHECK_INT(v, 3ull << 29);
    CHECK(prof_parse_size("4096", &v, &err) == 0);
    CHECK_INT(v, 4096);
    CHECK(prof_parse_size("64KiB", &v, &err) == 0);
    CHECK_INT(v, 65536);
    CHECK(prof_parse_size("12Q", &v, &err) < 0);
    CHECK(strstr(err.msg, "12Q") && strstr(err.msg, "unit"));
    CHECK(prof_parse_size("", &v, &err) < 0);
    CHECK(prof_parse_size("-5M", &v, &err) < 0);
    CHECK(prof_parse_size("M", &v, &err) < 0);
    CHECK(prof_parse_size("1e30G", &v, &err) < 0);
    CHECK(prof_parse_size(" 5M", &v, &err) < 0);

    CHECK(prof_parse_duration("500ms", &v, &err) == 0);
    CHECK_INT(v, 500000);
    CHECK(prof_parse_duration("2s", &v, &err) == 0);
    CHECK_INT(v, 2000000);
    CHECK(prof_parse_duration("250us", &v, &err) == 0);
    CHECK_INT(v, 250);
    CHECK(prof_parse_duration("1.5m", &v, &err) == 0);
    CHECK_INT(v, 90000000);
    CHECK(prof_parse_duration("0", &v, &err) == 0);
    CHECK_INT(v, 0);
    CHECK(prof_parse_duration("30", &v, &err) < 0);
    CHECK(strstr(err.msg, "needs a unit"));
    CHECK(prof_parse_duration("5h", &v, &err) < 0);
    CHECK(prof_parse_duration("fast", &v, &err) < 0);

    double c;
    CHECK(prof_parse_cpus("0.5", &c, &err) == 0);
    CHECK_NEAR(c, 0.5, 1e-9);
    CHECK(prof_parse_cpus("0", &c, &err) < 0);
    CHECK(prof_parse_cpus("two", &c, &err) < 0);
    CHECK(prof_parse_cpus("1.5x", &c, &err) < 0);

    cpu_set_t set;
    CHECK(prof_parse_cpulist("0-1,3", &set, &err) == 0);
    CHECK_INT(CPU_COUNT(&set), 3);
    CHECK(CPU_ISSET(0, &set) && CPU_ISSET(1, &set) && !CPU_ISSET(2, &set) && CPU_ISSET(3, &set));
    CHECK(prof_parse_cpulist("99999", NULL, &err) < 0);
    CHECK(prof_parse_cpulist("0", NULL, &err) == 0);
    CHECK(prof_parse_cpulist("1-0", NULL, &err) < 0);
    CHECK(prof_parse_cpulist("0,", NULL, &err) < 0);
    CHECK(prof_parse_cpulist("a", NULL, &err) < 0);
    CHECK(prof_parse_cpulist("", NULL, &err) < 0);

    CHECK(prof_parse_uint("10", 1, 100, &v, &err) == 0);
    CHECK_INT(v, 10);
    CHECK(prof_parse_uint("0", 1, 100, &v, &err) < 0);
    CHECK(prof_parse_uint("10x", 1, 100, &v, &err) < 0);
    CHECK(prof_parse_uint("-1", 0, 100, &v, &err) < 0);
    /* Sizes that do not fit an int64 are refused, not wrapped to INT64_MIN
     * ("no limit" in a report). */
    CHECK(prof_parse_size("15000000T", &v, &err) < 0);
    CHECK(strstr(err.msg, "too large"));
    CHECK(prof_parse_size("8Ei", &v, &err) < 0);
    CHECK(prof_parse_size("9223372036854775807", &v, &err) < 0);
    CHECK(prof_parse_size("8000000T", &v, &err) == 0 && v == 8000000000000000000ull);
    CHECK(prof_parse_duration("1000000000s", &v, &err) == 0);
    CHECK(prof_parse_duration("2000000000s", &v, &err) < 0);
    /* User and group ids: 2^32 is refused, not wrapped to 0 (root). */
    uint32_t id;
    CHECK(prof_parse_id("4294967296", &id, &err) < 0);
    CHECK(prof_parse_id("2147483648", &id, &err) < 0);
    CHECK(prof_parse_id("2147483647", &id, &err) == 0 && id == 2147483647u);
    CHECK(prof_parse_id("65534", &id, &err) == 0 && id == 65534);
    int sig;
    CHECK(prof_parse_signal("99999999999999999999", &sig, &err) < 0);
    CHECK_DONE();
}
