//! The one catalogue of UI strings, in English and Simplified Chinese, and the language switch's
//! state. Every text the UI shows comes from here; [`t`] reads the current language reactively, so
//! a view that calls it inside a closure follows the switch.
//!
//! Words follow the product glossary: Job 任务, Folder 目录, Instance 实例,
//! Attempt 执行记录, Worker 执行机器, Host group 机器组, Business time 业务时间.

use app::domain::{DependencyWindow, MisfirePolicy, OverlapPolicy, TriggerKind};
use leptos::prelude::*;

use crate::app::AppState;

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The BCP 47 tag, also what localStorage remembers.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language for a tag such as `zh-CN`, `zh` or `en-GB`; English unless Chinese.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

macro_rules! catalogue {
    ($($key:ident => $en:literal, $zh:literal;)+) => {
        /// A UI string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum K {
            $(#[doc = concat!("`", stringify!($key), "`: ", $en)] $key,)+
        }

        impl K {
            /// Every key, in catalogue order.
            #[cfg_attr(not(test), allow(dead_code))]
            pub const ALL: &'static [K] = &[$(K::$key),+];

            /// The text in `lang`.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((K::$key, Lang::En) => $en, (K::$key, Lang::Zh) => $zh,)+
                }
            }
        }
    };
}

catalogue! {
    // Shell and navigation
    NavJobs => "Jobs", "任务";
    NavCluster => "Cluster", "集群";
    Logout => "Log out", "退出";
    Tagline => "Distributed job scheduler", "分布式任务调度";
    NotFoundTitle => "Nothing here", "页面不存在";
    BackHome => "Back to the start page", "返回首页";
    // Login
    Username => "User name", "用户名";
    Password => "Password", "密码";
    SignIn => "Sign in", "登录";
    // Generic
    Loading => "Loading…", "加载中…";
    LoadFailed => "Could not load", "加载失败";
    NetworkError => "Cannot reach the server", "无法连接服务器";
    NothingYet => "Nothing yet", "暂无数据";
    NoMatch => "No match", "无匹配项";
    Create => "Create", "创建";
    Save => "Save", "保存";
    Saving => "Saving…", "保存中…";
    Cancel => "Cancel", "取消";
    Edit => "Edit", "编辑";
    Remove => "Remove", "移除";
    Yes => "Yes", "是";
    No => "No", "否";
    Empty => "", ""; // a column without a heading
    // Tree
    SearchJobs => "Search jobs by name or id", "按名称或 ID 搜索任务";
    NewFolder => "+ Folder", "+ 目录";
    NewJob => "+ Job", "+ 任务";
    NewJobHere => "New job in this folder", "在此目录新建任务";
    FolderName => "Folder name", "目录名称";
    TopLevel => "(top level)", "（顶层）";
    TreeEmpty => "No folders yet. Create one to start.", "还没有目录，先创建一个。";
    // Home
    Welcome => "Welcome to Hera", "欢迎使用 Hera";
    WelcomeHint => "Pick a job in the tree on the left, or create a folder and a job.",
        "在左侧目录树中选择任务，或新建目录和任务。";
    Folders => "Folders", "目录";
    Jobs => "Jobs", "任务";
    WorkersConnected => "Workers connected", "在线执行机器";
    // Job editor and summary
    Name => "Name", "名称";
    Folder => "Folder", "目录";
    ChooseFolder => "Choose a folder…", "选择目录…";
    Description => "Description", "描述";
    JobType => "Type", "类型";
    Script => "Script", "脚本";
    Configs => "Configs", "配置项";
    ConfigsHint => "The script reads them as ${key}.", "脚本中以 ${key} 引用。";
    ConfigKey => "key", "键";
    ConfigValue => "value", "值";
    AddConfig => "+ Config", "+ 配置项";
    ConfigKeyRule => "Use 1–128 letters, digits, _, . or -", "键须为 1–128 个字母、数字、_、. 或 -";
    ConfigKeyDuplicate => "This key is used twice", "键重复";
    ConfigValueTooLong => "The value is longer than 64 KiB", "值超过 64 KiB";
    ConfigsInvalid => "Some configs are not valid.", "部分配置项无效。";
    Cron => "Cron", "Cron 表达式";
    TimeZone => "Time zone", "时区";
    NextFireTimes => "Next fire times", "接下来的触发时间";
    NoSchedule => "No cron: runs when triggered or when its dependencies finish.",
        "无 Cron：手动触发或依赖完成后运行。";
    Schedule => "Schedule", "调度";
    Next => "next", "下次";
    Dependencies => "Dependencies", "依赖";
    DepWindowHint => "Which instances of this upstream job each instance waits for",
        "每个实例等待该上游任务的哪些实例";
    WinSameDay => "same day (all)", "同一天（全部）";
    WinLastOfDay => "same day (last run)", "同一天（最后一次）";
    WinPreviousDay => "previous day (T−1)", "前一天（T−1）";
    WinSameHour => "same hour", "同一小时";
    WinShortLastOfDay => "last run of the day", "当天最后一次";
    WinShortPreviousDay => "T−1", "T−1";
    WinShortSameHour => "same hour", "同一小时";
    SelfDependentHint => "Wait for this job's previous instance (self-dependency)",
        "等待本任务上一实例完成（自依赖）";
    SelfDependent => "Self-dependency", "自依赖";
    HostGroup => "Host group", "机器组";
    RetryCount => "Retries", "重试次数";
    RetryDelay => "Retry delay (s)", "重试间隔（秒）";
    Retries => "Retries", "重试";
    Enabled => "Enabled", "启用";
    EnabledHint => "Schedule creates instances", "按调度生成实例";
    DisableWarning => "These jobs depend on this one: {jobs}. While it is disabled they run without waiting for it.",
        "以下任务依赖此任务：{jobs}。停用期间它们不再等待此任务。";
    DependentJob => "{name} (#{id})", "{name}（#{id}）";
    ListSeparator => ", ", "、";
    Priority => "Priority", "优先级";
    PriorityLow => "lowest", "最低";
    PriorityHigh => "highest", "最高";
    Overlap => "If the previous instance is still active", "上一实例仍在运行时";
    OverlapAllow => "run both", "同时运行";
    OverlapSkip => "skip the new one", "跳过新实例";
    OverlapQueue => "run after it", "排队等待";
    Misfire => "Missed schedules (after downtime)", "错过的调度（停机后）";
    MisfireOnce => "run the latest once", "只补跑最近一次";
    MisfireSkip => "skip them", "全部跳过";
    MisfireCatchUp => "run all, oldest first", "全部补跑（从旧到新）";
    Policies => "Policies", "策略";
    Owner => "Owner", "负责人";
    Version => "Version", "版本";
    Required => "Required", "必填";
    WholeNumber => "A whole number, 0 or more", "请输入不小于 0 的整数";
    FixFields => "Please fix the marked fields.", "请修正标出的字段。";
    // Job page
    RunNow => "Run now", "立即运行";
    DeleteJob => "Delete", "删除";
    DeleteJobQuestion => "Delete job {name}? Its waiting and queued instances are cancelled; its history stays.",
        "删除任务 {name}？等待中和排队中的实例将被取消，历史记录保留。";
    Dag => "DAG", "依赖图";
    Instances => "Instances", "实例";
    NoInstances => "No instances yet. Run the job or wait for its schedule.",
        "暂无实例。立即运行或等待调度。";
    Instance => "Instance", "实例";
    Attempt => "Attempt", "执行记录";
    BusinessTime => "Business time", "业务时间";
    Trigger => "Trigger", "触发方式";
    State => "State", "状态";
    Worker => "Worker", "执行机器";
    ExitCode => "Exit code", "退出码";
    Started => "Started", "开始时间";
    Finished => "Finished", "结束时间";
    Duration => "Duration", "耗时";
    Log => "Log", "日志";
    // Why an instance has not started (a panel under its row)
    Why => "Why?", "为何未运行？";
    UpstreamDone => "done", "已完成";
    UpstreamNotDone => "not done", "未完成";
    NoInstanceYetDue => "no instance yet, due at {at}", "尚无实例，预计 {at} 触发";
    NoInstanceYet => "no instance yet", "尚无实例";
    QueuePosition => "Queue: position {n} of {m}", "队列：第 {n} 位，共 {m} 个";
    HostGroupCapacity => "Host group {group}: {workers}, {slots}", "机器组 {group}：{workers}，{slots}";
    WorkersConnectedOne => "1 worker connected", "1 台执行机器在线";
    WorkersConnectedMany => "{n} workers connected", "{n} 台执行机器在线";
    FreeSlotsOne => "1 free slot", "1 个空闲槽位";
    FreeSlotsMany => "{n} free slots", "{n} 个空闲槽位";
    RetryAt => "Retry at {at}", "将于 {at} 重试";
    // Instance actions (a panel under its row)
    Actions => "Actions", "操作";
    RunAgain => "Run again", "再次运行";
    SetState => "Set state", "设置状态";
    Rerun => "Rerun", "重跑";
    RerunRecover => "Recover (rerun + release downstream)", "恢复（重跑并释放下游）";
    RerunCascade => "Cascade (rerun with all downstream)", "级联重跑（含全部下游）";
    CascadeQuestion => "Rerun instance #{id} and its whole downstream, each job once in dependency order? This can start many runs.",
        "重跑实例 #{id} 及其全部下游（每个任务一次，按依赖顺序）？这可能启动大量运行。";
    ForceSuccess => "Mark success", "标记成功";
    ForceFailed => "Mark failed", "标记失败";
    ForceSkip => "Skip", "跳过";
    ForceQuestion => "Mark instance #{id} as {state}", "将实例 #{id} 标记为{state}";
    Reason => "Reason", "原因";
    ReasonPlaceholder => "Reason (required, recorded with your name)", "原因（必填，将与你的用户名一并记录）";
    Confirm => "Confirm", "确认";
    // Log
    LogLive => "Live", "实时";
    LogReconnecting => "Reconnecting…", "重新连接中…";
    LogComplete => "Complete", "已结束";
    Lines => "lines", "行";
    Follow => "Follow", "自动滚动";
    LinesHidden => "… {n} earlier lines are not shown", "… 前面 {n} 行未显示";
    AttemptMissing => "This attempt cannot be shown", "无法显示此执行记录";
    // DAG
    DagHint => "Click a job to open it.", "点击任务以打开。";
    // Cluster
    Host => "Host", "主机";
    Slots => "Slots", "槽位";
    Running => "Running", "运行中";
    Cpu => "CPU", "CPU";
    Memory => "Memory", "内存";
    Load => "Load", "负载";
    LastSeen => "Last seen", "最后心跳";
    NoWorkers => "No workers have registered.", "还没有执行机器注册。";
    // States (badges)
    StWaiting => "waiting", "等待依赖";
    StQueued => "queued", "排队中";
    StRunning => "running", "运行中";
    StRetryWait => "retry wait", "等待重试";
    StSuccess => "success", "成功";
    StFailed => "failed", "失败";
    StCancelled => "cancelled", "已取消";
    StSkipped => "skipped", "已跳过";
    StDispatched => "dispatched", "已派发";
    StLost => "lost", "失联";
    StNone => "not run", "未运行";
    StConnected => "connected", "在线";
    StDisconnected => "disconnected", "离线";
    // Trigger kinds
    TrScheduled => "scheduled", "调度";
    TrManual => "manual", "手动";
    TrRecover => "recover", "恢复";
    TrCascade => "cascade", "级联恢复";
    TrRetry => "retry", "重试";
    TrApi => "API", "API";
}

/// `key` in the current language; reactive.
pub fn t(key: K) -> &'static str {
    key.text(AppState::get().lang.get())
}

/// `key` in the current language, without subscribing (for non-reactive contexts).
pub fn t_untracked(key: K) -> &'static str {
    key.text(AppState::get().lang.get_untracked())
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The key for a count: `one` when `n` is 1, else `many` (which says `{n}`).
pub fn plural(n: u32, one: K, many: K) -> K {
    if n == 1 { one } else { many }
}

/// `key` in the current language with `{n}` replaced by `n`, for counts; reactive.
pub fn count(n: u32, one: K, many: K) -> String {
    fill(t(plural(n, one, many)), &[("n", &n.to_string())])
}

/// The label of a state by its snake_case name; reactive.
pub fn state_label(state: &str) -> &'static str {
    let key = match state {
        "waiting" => K::StWaiting,
        "queued" => K::StQueued,
        "running" => K::StRunning,
        "retry_wait" => K::StRetryWait,
        "success" => K::StSuccess,
        "failed" => K::StFailed,
        "cancelled" => K::StCancelled,
        "skipped" => K::StSkipped,
        "dispatched" => K::StDispatched,
        "lost" => K::StLost,
        "connected" => K::StConnected,
        "disconnected" => K::StDisconnected,
        _ => K::StNone,
    };
    t(key)
}

/// The label of a trigger kind, as a reactive text.
pub fn trigger_label(kind: TriggerKind) -> impl Fn() -> &'static str + Copy + Send + Sync {
    let key = match kind {
        TriggerKind::Scheduled => K::TrScheduled,
        TriggerKind::Manual => K::TrManual,
        TriggerKind::Recover => K::TrRecover,
        TriggerKind::Cascade => K::TrCascade,
        TriggerKind::Retry => K::TrRetry,
        TriggerKind::Api => K::TrApi,
    };
    move || t(key)
}

/// The label of an overlap policy.
pub fn overlap_label(policy: OverlapPolicy) -> K {
    match policy {
        OverlapPolicy::Allow => K::OverlapAllow,
        OverlapPolicy::Skip => K::OverlapSkip,
        OverlapPolicy::Queue => K::OverlapQueue,
    }
}

/// The label of a misfire policy.
pub fn misfire_label(policy: MisfirePolicy) -> K {
    match policy {
        MisfirePolicy::FireOnceNow => K::MisfireOnce,
        MisfirePolicy::Skip => K::MisfireSkip,
        MisfirePolicy::CatchUp => K::MisfireCatchUp,
    }
}

/// The label of a dependency window, as the editor's select offers it.
pub fn window_label(window: DependencyWindow) -> K {
    match window {
        DependencyWindow::SameDay => K::WinSameDay,
        DependencyWindow::LastOfDay => K::WinLastOfDay,
        DependencyWindow::PreviousDay => K::WinPreviousDay,
        DependencyWindow::SameHour => K::WinSameHour,
    }
}

/// The short label a dependency chip adds after the job; none for the default, the same day.
pub fn window_short_label(window: DependencyWindow) -> Option<K> {
    match window {
        DependencyWindow::SameDay => None,
        DependencyWindow::LastOfDay => Some(K::WinShortLastOfDay),
        DependencyWindow::PreviousDay => Some(K::WinShortPreviousDay),
        DependencyWindow::SameHour => Some(K::WinShortSameHour),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `{name}` placeholders of a text.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_placeholders() {
        for key in K::ALL {
            assert_eq!(
                placeholders(key.text(Lang::En)),
                placeholders(key.text(Lang::Zh)),
                "{key:?}"
            );
        }
    }

    #[test]
    fn every_window_has_a_label_and_only_same_day_goes_without_a_short_one() {
        for window in DependencyWindow::ALL {
            assert!(!window_label(*window).text(Lang::En).is_empty());
            assert_eq!(
                window_short_label(*window).is_none(),
                *window == DependencyWindow::SameDay,
                "{window}"
            );
        }
        assert_eq!(
            window_label(DependencyWindow::PreviousDay).text(Lang::Zh),
            "前一天（T−1）"
        );
    }

    #[test]
    fn every_key_is_translated() {
        for key in K::ALL.iter().filter(|k| **k != K::Empty) {
            assert!(!key.text(Lang::En).is_empty(), "{key:?}");
            assert!(!key.text(Lang::Zh).is_empty(), "{key:?}");
        }
    }

    #[test]
    fn fills_placeholders_and_picks_the_count_form() {
        assert_eq!(
            fill(
                K::HostGroupCapacity.text(Lang::En),
                &[
                    ("group", "etl"),
                    ("workers", "2 workers connected"),
                    ("slots", "1 free slot")
                ]
            ),
            "Host group etl: 2 workers connected, 1 free slot"
        );
        assert_eq!(fill("{n} of {n}", &[("n", "3")]), "3 of 3");
        assert_eq!(
            plural(1, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsOne
        );
        assert_eq!(
            plural(0, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsMany
        );
        assert_eq!(
            plural(2, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsMany
        );
    }
}
