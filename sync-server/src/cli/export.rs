//! `admin export`: a project, a report or a period as a BagIt bag that
//! `custody-verify` checks without the server (R14, issue 18).

use custody_core::archive::Scope;
use custody_core::calendar::{end_of_day_cst, start_of_day_cst};
use std::path::PathBuf;
use sync_server::AppState;
use sync_server::admin::AdminError;
use sync_server::export::{ExportError, export};

pub(super) fn export_cmd(
    state: &AppState,
    out: PathBuf,
    project: Option<String>,
    report: Option<String>,
    (from, to): (Option<String>, Option<String>),
    whole_chains: bool,
) -> Result<String, AdminError> {
    let day = |d: &Option<String>, f: fn(&str) -> Option<i64>| -> Result<Option<i64>, AdminError> {
        d.as_deref()
            .map(|s| {
                f(s).ok_or_else(|| {
                    AdminError::invalid(
                        format!("日期须为 YYYY-MM-DD：{s}"),
                        format!("a date is YYYY-MM-DD: {s}"),
                    )
                })
            })
            .transpose()
    };
    let report = report
        .map(|r| {
            r.parse().map_err(|_| {
                AdminError::invalid(
                    format!("报告编号须为 64 位十六进制：{r}"),
                    format!("a report id is 64 hex digits: {r}"),
                )
            })
        })
        .transpose()?;
    let scope = Scope {
        project,
        report,
        from_ms: day(&from, start_of_day_cst)?,
        until_ms: day(&to, end_of_day_cst)?,
        whole_chains,
    };
    let s =
        export(&state.store, &state.media(), &state.key, scope, &out, state.now()).map_err(|e| match e {
            ExportError::Invalid { zh, en } => AdminError::invalid(zh, en),
            other => AdminError::invalid(other.message_zh(), other.to_string()),
        })?;
    Ok(format!(
        "已导出到 {dir}：范围内 {scope} 条记录（共 {records} 条，含登记与链上下文），{media} 个媒体文件（{missing} 个服务器未收到），\
         {reports} 份报告，{cps} 个检查点，日志 {size} 条；用 custody-verify {dir} 验证\n\
         exported to {dir}: {scope} records in scope ({records} with directory facts and chain context), {media} media files \
         ({missing} never received), {reports} reports, {cps} checkpoints, log of {size}; {bytes} payload bytes; verify with custody-verify {dir}",
        dir = s.dir.display(),
        scope = s.in_scope,
        records = s.records,
        media = s.media,
        missing = s.media_missing,
        reports = s.reports,
        cps = s.checkpoints,
        size = s.head_size,
        bytes = s.payload_bytes,
    ))
}
