// test_header.cpp — sessionsidecar.h compiles as C++ (g++ -std=c++11 -Wall -Wextra -Werror -pedantic) and links.
// Needs no sidecar: it checks the declarations, the enums and the functions that work offline.
#include "sessionsidecar.h"

#include <cstdio>
#include <cstring>

int main() {
    int failures = 0;
    ss_client *client = ss_client_new("/nonexistent/sessionsidecar.sock", 200);
    if (!client) return 1;

    ss_health_result *health = nullptr;
    if (ss_health(client, &health) != SS_ERR_CONNECTION || health != nullptr) failures++;

    ss_error error;
    ss_client_error(client, &error);
    if (error.code != SS_ERR_CONNECTION || std::strlen(error.message) == 0) failures++;
    if (std::strcmp(ss_err_name(SS_ERR_TIMEOUT), "SS_ERR_TIMEOUT") != 0) failures++;
    if (std::strcmp(ss_wire_code_name(SS_CODE_INVALID_ARGUMENT), "INVALID_ARGUMENT") != 0) failures++;
    if (std::strcmp(ss_verify_outcome_name(SS_VERIFY_TRY_REFRESH_TOKEN), "TRY_REFRESH_TOKEN") != 0) failures++;
    if (std::strcmp(ss_refresh_outcome_name(SS_REFRESH_TOKEN_THEFT_DETECTED), "TOKEN_THEFT_DETECTED") != 0) failures++;

    ss_create_options create = ss_create_options();
    create.enable_anti_csrf = true;
    ss_verify_options verify = ss_verify_options();
    verify.check_database = true;
    ss_create_result *created = nullptr;
    if (ss_create_session(client, nullptr, &create, &created) != SS_ERR_INVALID_ARGUMENT) failures++;
    ss_verify_result *verified = nullptr;
    if (ss_verify_session(client, "token", &verify, nullptr) != SS_ERR_INVALID_ARGUMENT) failures++;
    (void)verified;

    ss_create_result_free(created);
    ss_client_free(client);
    std::printf("C++ header check: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
