"""Korean translations of upload provenance and withdrawn share links (issue 22: who may see what)."""

KO = {
    # a share link whose export holds destroyed footage
    "Evidence export withdrawn": "증거 내보내기 자료 철회됨",
    "This export is withdrawn: footage in it was lawfully destroyed under the archive's retention rules, so "
    "nothing of it can be shown or downloaded any more.":
        "이 내보내기 자료는 철회되었습니다: 들어 있던 영상이 보존 규칙에 따라 적법하게 파기되어 더 이상 아무것도 보여 주거나 "
        "내려받을 수 없습니다.",
    "an account of the archive is needed to open it": "열려면 이 보관소의 계정이 필요합니다",
    # uploads: an upload by an account until a records manager confirms it as a camera's recording
    "origin": "출처",
    "camera recording": "카메라 녹화 영상",
    "upload by {account}, unconfirmed": "업로드 (계정 {account}, 확인되지 않음)",
    # an upload's default title: who uploaded it, never the camera it only claims
    "upload by {account}": "계정 {account}의 업로드",
    "upload by {account}, confirmed": "업로드 (계정 {account}, 확인됨)",
    "upload by {account}, confirmed as {camera}'s recording by {confirmer}":
        "업로드 (계정 {account}, {confirmer}이(가) 카메라 {camera}의 녹화 영상으로 확인함)",
    "it claims to be camera {camera}'s recording": "카메라 {camera}의 녹화 영상이라고 제출되었습니다",
    "Confirm as this camera's recording": "이 카메라의 녹화 영상으로 업로드 확인",
    "package {package_id} is not an upload awaiting confirmation as a camera's recording: {state}":
        "패키지 {package_id}은(는) 카메라 녹화 영상으로 업로드 확인을 기다리는 업로드가 아닙니다: {state}",
    # in an export's report, beside the camera of an upload's file
    "upload by {account}, unconfirmed: not a camera's recording":
        "업로드 (계정 {account}, 확인되지 않음): 카메라 녹화 영상이 아님",
    "upload by {account}, confirmed as the camera's recording by {confirmer} at {time}":
        "업로드 (계정 {account}, {confirmer}이(가) {time}에 카메라 녹화 영상으로 확인함)",
    # longwatch uploads confirm
    "Uploads: confirm one as a camera's recording (until then it is an upload by its account).":
        "업로드: 카메라 녹화 영상으로 업로드 확인을 합니다 (그때까지는 그 계정의 업로드입니다).",
    "Confirm the upload PACKAGE_ID as a camera's recording; recorded in the custody ledger (records managers\n"
    "and administrators).":
        "업로드 PACKAGE_ID를 카메라 녹화 영상으로 업로드 확인합니다. 관리 연속성 원장에 기록됩니다\n"
        "(기록관리 담당자와 관리자).",
    "The camera whose recording it is (default: the camera it claims).":
        "녹화한 카메라 (기본값: 업로드가 밝힌 카메라).",
    "{package_id}: {provenance}": "{package_id}: {provenance}",
    # the upload page, beside the camera field
    "The file is archived as your upload; the camera you name is recorded as claimed until a records manager "
    "confirms it as that camera's recording.":
        "파일은 내 업로드로 보존됩니다. 입력한 카메라는 기록관리 담당자가 그 카메라의 녹화 영상으로 업로드 확인을 할 "
        "때까지 업로드가 밝힌 카메라로만 기록됩니다.",
}
