"""Korean translations of the records manager's pages: legal holds, disposition, the retention schedule."""

KO = {
    # navigation and headings
    "Legal holds": "법적 보존 조치",
    "Disposition": "처분",
    "Dispositions": "처분 목록",
    # holds
    "Nothing a hold covers is deleted by any path until the hold is released. Placing and releasing a hold are "
    "custody events.":
        "보존 조치가 걸린 것은 조치가 해제될 때까지 어떤 경로로도 삭제되지 않습니다. 보존 조치의 설정과 해제는 "
        "관리 연속성 이벤트로 기록됩니다.",
    "Active holds only": "유효한 보존 조치만",
    "Released holds too": "해제된 보존 조치도 보기",
    "Times in {zone}": "시각 기준: {zone}",
    "No holds.": "보존 조치가 없습니다.",
    "review overdue": "검토 기한 지남",
    "reason for release": "해제 사유",
    "Release": "해제",
    "release": "해제",
    "Place a hold": "보존 조치 설정",
    "Place the hold": "보존 조치 설정하기",
    "the hold covers": "보존 조치 대상",
    "a package": "패키지 하나",
    "a case": "사건 하나",
    "a camera over a time range": "기간을 지정한 카메라 하나",
    "a saved search": "저장된 검색",
    "saved search": "저장된 검색",
    "package id": "패키지 ID",
    "until": "까지",
    "Local time ({zone}), to the second.": "현지 시각({zone}), 초 단위까지 입력합니다.",
    "owner (who asked for the hold)": "요청 기관 (보존 조치를 요청한 곳)",
    "choose what the hold covers and fill in that field: a package, a case, a camera with a start and an end, "
    "or a saved search":
        "보존 조치 대상을 고르고 그 칸을 채우십시오: 패키지, 사건, 시작과 끝을 지정한 카메라, 또는 저장된 검색",
    "{value!r} is not a date and time: use the picker, or type YYYY-MM-DDTHH:MM:SS in {zone} (or ISO 8601 with "
    "an offset)":
        "{value!r}은(는) 날짜와 시각이 아닙니다: 선택기를 사용하거나 {zone} 기준 YYYY-MM-DDTHH:MM:SS 형식으로 "
        "입력하십시오 (또는 시차를 포함한 ISO 8601)",
    "the end {end} is before the start {start}": "끝 {end}이(가) 시작 {start}보다 앞섭니다",
    "say why: a reason is required and is kept in the custody ledger":
        "사유를 입력하십시오: 사유는 필수이며 관리 연속성 원장에 보관됩니다",
    # disposition
    "Footage is destroyed only when one records manager proposes it, a second approves it, and a job executes "
    "it; each step is a custody event, and a signed destruction certificate ends it.":
        "영상은 기록관리 담당자 한 사람이 제안하고 다른 한 사람이 승인한 뒤 작업이 실행할 때에만 파기됩니다. "
        "각 단계는 관리 연속성 이벤트로 기록되며, 서명된 파기 확인서로 끝납니다.",
    "Due now under schedule {id}": "책정표 {id}에 따라 지금 보존기간이 끝난 것",
    "Only these classes (none: every class)": "이 분류만 (선택하지 않으면 모든 분류)",
    "Propose for destruction": "파기 제안",
    "No dispositions yet.": "아직 처분이 없습니다.",
    "{done} of {total} decided": "{total}건 중 {done}건 처리",
    "{count} packages have no retention class yet; proposing gives them one first":
        "패키지 {count}개에 아직 보존 분류가 없습니다. 제안하면 먼저 분류를 지정합니다",
    "progress": "진행",
    "certificate": "확인서",
    "destruction certificate": "파기 확인서",
    "By class": "분류별",
    "By outcome": "결과별",
    "Decide": "결정",
    "A records manager other than the proposer approves or rejects; you act as {user}.":
        "제안자가 아닌 기록관리 담당자가 승인하거나 반려합니다. 현재 사용자: {user}.",
    "Approve": "승인",
    "Reject": "반려",
    "reason for rejection": "반려 사유",
    "Execution runs as a job; this page shows its progress.": "실행은 작업으로 진행되며 이 페이지에 진행 상황이 표시됩니다.",
    "Execute": "실행",
    "Resume the execution": "실행 재개",
    "rejected by": "반려자",
    "job": "작업",
    "{user} ({role}) cannot decide disposition {disposition_id}: a records manager other than its proposer "
    "{proposer} must approve or reject it":
        "{user}({role})은(는) 처분 {disposition_id}을(를) 결정할 수 없습니다: 제안자 {proposer}가 아닌 "
        "기록관리 담당자가 승인하거나 반려해야 합니다",
    "executing disposition {disposition_id} stopped with an unexpected error ({detail}); what was destroyed is "
    "shown on its page: execute it again to resume, or run `longwatch dispose execute {disposition_id}`":
        "처분 {disposition_id}을(를) 실행하던 중 예기치 않은 오류로 멈추었습니다 ({detail}). 파기된 것은 처분 "
        "페이지에 표시됩니다: 다시 실행하여 이어서 진행하거나 `longwatch dispose execute {disposition_id}`를 "
        "실행하십시오",
    # states
    "approved": "승인됨",
    "executing": "실행 중",
    "executed": "실행됨",
    "rejected": "반려됨",
    "pending": "대기",
    "deleting": "삭제 중",
    "deleted": "삭제됨",
    "store-locked": "저장소 잠금으로 보존",
    "not due": "보존기간 미도래",
    "kept as a planning sample": "계획 표본으로 보존",
    "planning sample failed": "계획 표본 보존 실패",
    "cancelled": "취소됨",
    "manual deletion": "수동 삭제",
    "a legal hold covers it": "법적 보존 조치 대상임",
    "a store still locks a copy": "저장소가 아직 사본을 잠그고 있음",
    "no longer due": "더 이상 보존기간이 끝나지 않음",
    "its sampled minutes are kept for planning": "표본 구간이 계획용으로 보존됨",
    "its planning sample could not be kept yet": "계획 표본을 아직 보존하지 못함",
    "the proposal was rejected": "제안이 반려됨",
    # dashboard
    "{count} active legal holds": "유효한 법적 보존 조치 {count}건",
    "{count} past their review date": "그중 {count}건은 검토일이 지났습니다",
    "No disposition is waiting.": "기다리는 처분이 없습니다.",
    # schedule
    "the built-in default": "기본 제공 책정표",
    "responsible": "책임자",
    "default class": "기본 분류",
    "The schedule is changed at the command line (`longwatch retention preview`, then `longwatch retention set`), "
    "which records each version in the custody ledger.":
        "책정표는 명령줄에서 바꿉니다 (`longwatch retention preview` 후 `longwatch retention set`). 바꿀 때마다 "
        "각 버전이 관리 연속성 원장에 기록됩니다.",
    "Record classes": "기록 분류",
    "period": "보존기간",
    "counted": "기산일",
    "at the end": "보존기간 경과 후",
    "Assignment rules": "분류 지정 규칙",
    "A package gets the class that keeps it longest among the default class and every rule it matches.":
        "패키지는 기본 분류와 해당하는 모든 규칙 가운데 가장 오래 보존하는 분류를 받습니다.",
    "rule": "규칙",
    "No rules: every package is in the default class.": "규칙이 없습니다: 모든 패키지가 기본 분류입니다.",
    "Planning sample": "계획 표본",
    "On: minutes {start} to {end} of every hour are kept in class {cls} when the rest is destroyed.":
        "사용: 나머지를 파기할 때 매시 {start}분부터 {end}분까지는 분류 {cls}(으)로 보존합니다.",
    "Off.": "사용 안 함.",
    "Schedule versions in use": "사용 중인 책정표 버전",
    "Schedule versions made active": "적용된 책정표 버전",
    "made active": "적용 시각",
    "made active by": "적용한 사람",
    "None: the built-in default has governed since the archive was made.":
        "없음: 아카이브를 만든 뒤로 기본 제공 책정표가 적용되어 왔습니다.",
    "classes": "분류",
    "first assigned": "처음 지정",
    "last assigned": "마지막 지정",
    "No package has a retention class yet.": "아직 보존 분류가 지정된 패키지가 없습니다.",
    "from capture": "촬영일부터",
    "from the event": "이벤트 발생일부터",
    "from the case's closure": "사건 종결일부터",
    "destroy": "파기",
    "schedule": "책정표",
}
