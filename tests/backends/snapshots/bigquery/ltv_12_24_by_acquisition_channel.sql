WITH `t4` AS (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`status`,
    `t1`.`channel`,
    `t1`.`subtotal`,
    `t1`.`discount`,
    `t1`.`shipping_fee`,
    `t1`.`points_used`,
    `t1`.`total`,
    `t1`.`points_earned`,
    `t1`.`coupon_code`,
    `t1`.`subscription_id`,
    `t1`.`payment_method`,
    `t1`.`shipping_prefecture`,
    `t1`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t1`
  WHERE
    `t1`.`status` = 'completed'
    AND `t1`.`customer_id` IS NOT NULL
    AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
)
SELECT
  `t15`.`acquisition_channel`,
  `t15`.`customers`,
  `t15`.`customers_12m`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t15`.`revenue_12m` AS FLOAT64), NULLIF(`t15`.`customers_12m`, 0)) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `ltv_12m`,
  `t15`.`customers_24m`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t15`.`revenue_24m` AS FLOAT64), NULLIF(`t15`.`customers_24m`, 0)) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `ltv_24m`
FROM (
  SELECT
    `t14`.`acquisition_channel`,
    COUNT(`t14`.`customer_id`) AS `customers`,
    SUM(IF(`t14`.`age_days` >= 365, 1, 0)) AS `customers_12m`,
    SUM(IF(`t14`.`age_days` >= 365, `t14`.`revenue_12m`, 0)) AS `revenue_12m`,
    SUM(IF(`t14`.`age_days` >= 730, 1, 0)) AS `customers_24m`,
    SUM(IF(`t14`.`age_days` >= 730, `t14`.`revenue_24m`, 0)) AS `revenue_24m`
  FROM (
    SELECT
      `t13`.`customer_id`,
      `t13`.`first_date`,
      `t13`.`revenue_12m`,
      `t13`.`revenue_24m`,
      `t13`.`age_days`,
      `t3`.`acquisition_channel`
    FROM (
      SELECT
        `t11`.`customer_id`,
        `t11`.`first_date`,
        SUM(
          IF(DATE_DIFF(`t11`.`order_date`, `t11`.`first_date`, DAY) < 365, `t11`.`total`, 0)
        ) AS `revenue_12m`,
        SUM(
          IF(DATE_DIFF(`t11`.`order_date`, `t11`.`first_date`, DAY) < 730, `t11`.`total`, 0)
        ) AS `revenue_24m`,
        MAX(DATE_DIFF(DATE(2026, 10, 31), `t11`.`first_date`, DAY)) AS `age_days`
      FROM (
        SELECT
          `t10`.`order_id`,
          `t10`.`customer_id`,
          `t10`.`ordered_at`,
          `t10`.`status`,
          `t10`.`channel`,
          `t10`.`subtotal`,
          `t10`.`discount`,
          `t10`.`shipping_fee`,
          `t10`.`points_used`,
          `t10`.`total`,
          `t10`.`points_earned`,
          `t10`.`coupon_code`,
          `t10`.`subscription_id`,
          `t10`.`payment_method`,
          `t10`.`shipping_prefecture`,
          `t10`.`is_gift`,
          `t10`.`order_date`,
          `t10`.`first_date`,
          `t10`.`cohort_month`,
          `t10`.`cohort_idx`,
          (
            (
              (
                EXTRACT(year FROM `t10`.`order_date`) * 12
              ) + EXTRACT(month FROM `t10`.`order_date`)
            ) - 1
          ) - `t10`.`cohort_idx` AS `months_since`
        FROM (
          SELECT
            `t6`.`order_id`,
            `t6`.`customer_id`,
            `t6`.`ordered_at`,
            `t6`.`status`,
            `t6`.`channel`,
            `t6`.`subtotal`,
            `t6`.`discount`,
            `t6`.`shipping_fee`,
            `t6`.`points_used`,
            `t6`.`total`,
            `t6`.`points_earned`,
            `t6`.`coupon_code`,
            `t6`.`subscription_id`,
            `t6`.`payment_method`,
            `t6`.`shipping_prefecture`,
            `t6`.`is_gift`,
            `t6`.`order_date`,
            `t9`.`first_date`,
            `t9`.`cohort_month`,
            `t9`.`cohort_idx`
          FROM `t4` AS `t6`
          INNER JOIN (
            SELECT
              `t7`.`customer_id`,
              `t7`.`first_date`,
              DATE_TRUNC(`t7`.`first_date`, MONTH) AS `cohort_month`,
              (
                (
                  EXTRACT(year FROM `t7`.`first_date`) * 12
                ) + EXTRACT(month FROM `t7`.`first_date`)
              ) - 1 AS `cohort_idx`
            FROM (
              SELECT
                `t5`.`customer_id`,
                MIN(`t5`.`order_date`) AS `first_date`
              FROM `t4` AS `t5`
              GROUP BY
                1
            ) AS `t7`
          ) AS `t9`
            ON `t6`.`customer_id` = `t9`.`customer_id`
        ) AS `t10`
      ) AS `t11`
      GROUP BY
        1,
        2
    ) AS `t13`
    INNER JOIN (
      SELECT
        `t0`.`customer_id`,
        COALESCE(`t0`.`acquisition_channel`, '(不明)') AS `acquisition_channel`
      FROM `customers` AS `t0`
    ) AS `t3`
      ON `t13`.`customer_id` = `t3`.`customer_id`
  ) AS `t14`
  GROUP BY
    1
) AS `t15`
ORDER BY
  `t15`.`customers` DESC,
  `t15`.`acquisition_channel` ASC NULLS LAST
