#ifndef SESSION_SIDECAR_CMARIADB_SHIM_H
#define SESSION_SIDECAR_CMARIADB_SHIM_H
// The one header through which Swift sees MariaDB Connector/C. Only the MySQLStore target imports this module.
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#endif
