/* Everything a service program needs from libgatehouse. */
#ifndef GATEHOUSE_H
#define GATEHOUSE_H

#include "gh_arena.h"
#include "gh_app.h"
#include "gh_config.h"
#include "gh_auth.h"
#include "gh_crypto.h"
#include "gh_db.h"
#include "gh_idem.h"
#include "gh_json.h"
#include "gh_log.h"
#include "gh_page.h"
#include "gh_req.h"
#include "gh_revoked.h"
#include "gh_sweep.h"
#include "gh_token.h"
#include "gh_dpop.h"

#endif
