-- Argo CD health of a KratosUpgrade (kratos-upgrade.io/v1alpha1), read from the operator's status.
--   Healthy     the run succeeded, a dry run wrote its plan, or (mode Gate) the database is migrated for the
--               target and the Deployment may now be rolled out: a later sync wave may go.
--   Suspended   the plan waits for an approval (kubectl annotate ... kratos-upgrade.io/approve=<hash>).
--   Degraded    the run failed or rolled back, or reconciling it keeps failing (Stalled).
--   Progressing anything else, including a spec the operator has not seen yet (observedGeneration behind).
-- An image put back after a successful run stays Healthy (so Git can roll forward again) with the
-- ImageReverted message.
local hs = {}
local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to start the run"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local function condition(conditionType)
  if status.conditions ~= nil then
    for _, c in ipairs(status.conditions) do
      if c.type == conditionType then
        return c
      end
    end
  end
  return nil
end

local phase = status.phase
local message = status.message
if message == nil or message == "" then
  message = phase
end
local stalled = condition("Stalled")
if phase == "Failed" or phase == "RolledBack" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
  if stalled ~= nil and stalled.status == "True" and stalled.message ~= nil and stalled.message ~= "" then
    message = stalled.message
  end
  hs.message = phase .. ": " .. message
  return hs
end
if phase == "AwaitingApproval" then
  hs.status = "Suspended"
  hs.message = message
  return hs
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  local reverted = condition("ImageReverted")
  if reverted ~= nil and reverted.status == "True" then
    hs.message = "ImageReverted: " .. reverted.message
  else
    hs.message = message
  end
  return hs
end
hs.status = "Progressing"
hs.message = phase .. ": " .. message
return hs
