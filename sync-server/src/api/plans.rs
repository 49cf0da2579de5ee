//! A project's plans before work starts, what is missing and progress
//! against plan (issue 15), for the project's participants, its owner, its
//! labs and the regulators of its jurisdiction (R18) — who may see is
//! `custody_core::access::console_project`, the console's own rule.

use super::{ApiResult, forbidden, viewer_of};
use crate::auth::AuthedDevice;
use crate::{AppState, plans};
use axum::Json;
use axum::extract::{Path, State};
use custody_core::access::{self, Denied};
use custody_core::model::Id;
use custody_core::plans::progress::ProgressPolicy;
use custody_core::protocol::{ApiError, PreStartGapView, ProjectPlansResponse};

fn not_found() -> crate::error::AppError {
    crate::error::AppError::not_found("project_not_found", "项目不存在", "no such project")
}

#[utoipa::path(get, path = "/v1/projects/{id}/plans", params(("id" = String, Path, description = "the project's id")),
    responses((status = 200, body = ProjectPlansResponse), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn project_plans(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectPlansResponse>> {
    let project = Id::new(project).map_err(|_| not_found())?;
    let now = state.now();
    let policy: ProgressPolicy = state.config.oversight.plans;
    let out = state
        .store
        .read_async(move |tx| {
            let viewer = viewer_of(tx, &dev)?;
            let Some(scope) = tx.project_scopes()?.into_iter().find(|s| s.project == project) else {
                return Ok(None);
            };
            if !access::console_project(&viewer, now, &scope) {
                return Ok(Some(Err(Denied {
                    code: "project_not_visible",
                    message_zh: "无权查看该项目".into(),
                    message_en: "this project is not yours to see".into(),
                })));
            }
            let p = plans::project_plans(tx, &project)?;
            let gaps = plans::prestart_gaps(tx, &project, &p, now)?;
            let progress = plans::progress(tx, &project, &p, now, policy)?;
            Ok(Some(Ok(ProjectPlansResponse {
                project,
                at_ms: now,
                gaps: gaps.iter().map(PreStartGapView::from).collect(),
                progress: progress.items,
                outside: progress.outside,
                plans: p,
            })))
        })
        .await?;
    match out {
        None => Err(not_found()),
        Some(r) => r.map(Json).map_err(forbidden),
    }
}
