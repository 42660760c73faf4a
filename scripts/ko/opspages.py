"""Korean translations of the operator's and auditor's pages (issue 22): event review, cameras, accounts."""

KO = {
    # navigation
    "Event review": "이벤트 검토",
    "Cameras": "카메라",
    # errors W080-W086
    "{username} is the last active administrator: give another account the administrator role first, or nobody "
    "could manage the accounts any more":
        "{username}은(는) 마지막 활성 관리자입니다: 먼저 다른 계정에 관리자 역할을 주십시오. 그렇지 않으면 아무도 계정을 "
        "관리할 수 없게 됩니다",
    "the current password is not right; nothing was changed": "현재 비밀번호가 맞지 않습니다. 아무것도 바뀌지 않았습니다",
    "the two new passwords differ; type the same one twice": "새 비밀번호 두 개가 다릅니다. 같은 비밀번호를 두 번 입력하십시오",
    "a token expires after 1 to {maximum} days, not {days}":
        "토큰의 만료 기간은 1일에서 {maximum}일 사이여야 합니다 ({days}은(는) 안 됩니다)",
    "you have no API token #{token_id}": "API 토큰 #{token_id}이(가) 없습니다",
    "choose a CSV file of cameras to import": "가져올 카메라 CSV 파일을 선택하십시오",
    "choose a decision: confirmed, false positive or unsure": "판정을 선택하십시오: 확인, 오탐 또는 불확실",
    # event review
    "Events from detectors and control-centre systems that await a person's decision. Each decision is recorded "
    "in the custody ledger with your name; a false positive moves its window to the shorter retention class.":
        "탐지기와 관제센터 시스템이 보낸 이벤트 가운데 사람의 판정을 기다리는 것입니다. 모든 판정은 판정한 사람의 이름과 "
        "함께 관리 연속성 원장에 기록되며, 오탐으로 판정하면 그 보존 구간은 더 짧은 보존 등급으로 옮겨집니다.",
    "{count} events await review": "검토를 기다리는 이벤트 {count}건",
    "Events awaiting review": "검토를 기다리는 이벤트",
    "oldest {count} shown": "오래된 {count}건 표시",
    "Awaiting review": "검토 대기",
    "awaiting review": "검토 대기",
    "decided by": "판단 주체",
    "footage": "영상",
    "decision": "판정",
    "vendor event id": "제조사 이벤트 ID",
    "no source package": "원본 패키지 없음",
    "source footage": "원본 영상",
    "preserved window": "보존 구간",
    "no window preserved": "보존 구간 없음",
    "note (optional)": "메모 (선택)",
    "Confirm": "확인",
    "False positive": "오탐",
    "Unsure": "불확실",
    "No events await review.": "검토를 기다리는 이벤트가 없습니다.",
    "False positives by detector": "탐지기별 오탐",
    "Rates are shares of the reviewed events.": "비율은 검토된 이벤트 가운데 차지하는 몫입니다.",
    "detector or source": "탐지기 또는 출처",
    "No events recorded yet.": "아직 기록된 이벤트가 없습니다.",
    "Reviewed recently": "최근 검토",
    "reviewer": "검토자",
    "reviewed at": "검토 일시",
    "No event has been reviewed yet.": "아직 검토된 이벤트가 없습니다.",
    "when": "일시",
    # cameras
    "{count} cameras": "카메라 {count}대",
    "moved {count} times": "{count}회 이동",
    "footage until {time}": "{time}까지 영상 있음",
    "{count} gaps": "녹화 공백 {count}건",
    "latest from {time}": "최근 공백 {time}부터",
    "gaps": "녹화 공백",
    "recording": "녹화 중",
    "silent": "수신 없음",
    "no footage yet": "아직 영상 없음",
    "not in the registry": "등록되지 않음",
    "No cameras registered yet.": "아직 등록된 카메라가 없습니다.",
    "Add or update a camera": "카메라 추가 또는 수정",
    "Camera id": "카메라 ID",
    "Coordinates (latitude, longitude)": "좌표 (위도, 경도)",
    "Save camera": "카메라 저장",
    "Record a move": "이전 기록",
    "Footage recorded after the move is placed at the new position; earlier footage keeps the old one.":
        "이전 뒤에 녹화된 영상은 새 위치에 놓이고, 그 전의 영상은 이전 위치를 유지합니다.",
    "Moved at (local time)": "이전 일시 (현지 시각)",
    "New zone": "새 구역",
    "New coordinates (latitude, longitude)": "새 좌표 (위도, 경도)",
    "New address": "새 주소",
    "Record the move": "이전 기록하기",
    "Import cameras from a CSV file": "CSV 파일에서 카메라 가져오기",
    "Columns: id, name, zone, latitude, longitude, address (or one coordinates column \"LAT,LON\"); optional "
    "vendor, model, purpose, tags separated by ';', timezone, clock_offset_s. All or nothing: a bad row imports "
    "no camera.":
        "열: id, name, zone, latitude, longitude, address (또는 \"위도,경도\" 형식의 coordinates 열 하나). 선택 열: "
        "vendor, model, purpose, ';'로 구분한 tags, timezone, clock_offset_s. 전부 아니면 전무입니다: 잘못된 행이 "
        "하나라도 있으면 어떤 카메라도 가져오지 않습니다.",
    "CSV file": "CSV 파일",
    "Import": "가져오기",
    # accounts
    "Account changes": "계정 변경 이력",
    "Who changed which account, and when (newest first; also in the custody ledger)":
        "누가 어느 계정을 언제 바꾸었는지 (최신순, 관리 연속성 원장에도 기록됨)",
    "No account changes recorded yet.": "아직 기록된 계정 변경이 없습니다.",
    "account created": "계정 생성",
    "role changed": "역할 변경",
    "enabled or disabled": "사용 여부 변경",
    "password set": "비밀번호 설정",
    "API token created": "API 토큰 생성",
    "API token revoked": "API 토큰 폐지",
    "Change your password": "비밀번호 변경",
    "Every session of yours ends, this one included: sign in again with the new password.":
        "지금 세션을 포함해 모든 세션이 끝납니다: 새 비밀번호로 다시 로그인하십시오.",
    "Current password": "현재 비밀번호",
    "New password": "새 비밀번호",
    "New password again": "새 비밀번호 확인",
    "Change password": "비밀번호 변경하기",
    "API tokens": "API 토큰",
    "A token lets a program act as you through the REST API (Authorization: Bearer ...). Each one expires; "
    "revoke one you no longer use.":
        "토큰이 있으면 프로그램이 REST API로 본인을 대신해 작업할 수 있습니다 (Authorization: Bearer ...). 모든 토큰은 "
        "만료되며, 더 이상 쓰지 않는 토큰은 폐지하십시오.",
    "Your new token. Copy it now: it is shown only this once and is not stored.":
        "새 토큰입니다. 지금 복사하십시오: 이번 한 번만 표시되며 저장되지 않습니다.",
    "Your API tokens": "내 API 토큰",
    "expires": "만료 일시",
    "revoke": "폐지",
    "You have no API tokens.": "API 토큰이 없습니다.",
    "Create a token": "토큰 만들기",
    "What it is for": "용도",
    "Expires after how many days (1 to {maximum})": "만료까지 일수 (1~{maximum})",
    "Create token": "토큰 만들기",
}
